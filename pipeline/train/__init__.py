"""`curate train`: a small, resumable GAN trainer on the clean folders (plain PyTorch).

Read in this order: data.py (images → tensor), models.py (G and D), augment.py (DiffAugment),
losses.py (ns-r1, wgan-gp, hinge), checkpoint.py (full state), loop.py (the training loop),
generate.py and report.py (using a trained run), metrics.py (proxy FID without downloads).
"""
