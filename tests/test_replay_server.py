"""The replay server every network test builds on: keep-alive, counting, faults."""

from __future__ import annotations

import pytest
import requests
from servers.base import ReplayServer, Response


def app(request):
    if request.path == "/json":
        return Response.json({"page": request.arg("page")})
    if request.path == "/moved":
        return Response.redirect("/json?page=9")
    if request.path == "/reset":
        return Response(reset=True)
    return Response(404, b"not found")


def test_keep_alive_is_counted_and_faults_happen():
    with ReplayServer(app) as server, requests.Session() as session:
        assert session.get(server.url + "/json?page=2").json() == {"page": "2"}
        assert session.get(server.url + "/moved").json() == {"page": "9"}
        assert session.get(server.url + "/missing").status_code == 404
        assert server.connections == 1  # three requests, one connection
        assert server.paths["/json"] == 2
        with pytest.raises(requests.ConnectionError):
            session.get(server.url + "/reset")
