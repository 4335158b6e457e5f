"""A Flask eepsite on the blocking API (``serve_wsgi``: wsgiref, a thread per stream).

Try it on the embedded router with a host name::

    i2p-streaming keygen flask.dat
    echo "flask.i2p=$(i2p-streaming keyinfo flask.dat | sed -n 's/^base64: //p')" > hosts.txt
    i2p-streaming router --hosts hosts.txt &
    python examples/flask_eepsite.py --keys flask.dat
    python examples/httpx_client.py http://flask.i2p/

Prints ``serving http://<b32>/ (port N)`` once it accepts streams; Ctrl-C stops it.
Needs ``pip install flask``.
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from flask import Flask, jsonify, request

from i2p_streaming.sync import create_session
from i2p_streaming.web import serve_wsgi, web_stream_options

app = Flask("eepsite")


@app.get("/")
def index() -> Any:
    """Who you are: REMOTE_ADDR is your b32, X-I2P-DestB32 the same (never a forged one)."""
    return jsonify(
        hello="from a Flask eepsite",
        you=request.headers.get("X-I2P-DestB32"),
        remote=request.remote_addr,
    )


@app.post("/echo")
def echo() -> Any:
    return request.get_data(), 200, {"Content-Type": "application/octet-stream"}


def main(args: argparse.Namespace) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with create_session(
        args.router, keys=args.keys, create_keys=args.keys is not None, options=web_stream_options()
    ) as session:
        server = serve_wsgi(app, session, args.port)
        print(f"serving http://{session.b32}/ (port {args.port})", flush=True)
        stop.wait()
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="a Flask eepsite")
    parser.add_argument("--router", default="127.0.0.1:7654", help="I2CP router HOST:PORT")
    parser.add_argument("--keys", help="private-key file (created if missing; default: new)")
    parser.add_argument("--port", type=int, default=80, help="stream port (default 80)")
    main(parser.parse_args())
