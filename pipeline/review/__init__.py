"""`curate review`: a local web page to go through crops at speed and reject the bad ones."""
