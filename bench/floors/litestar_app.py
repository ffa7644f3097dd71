"""A bare Litestar endpoint served like the gateway: the HTTP floor of an invocation.

``python -m bench.floors.litestar_app --port P [--jwt SECRET]`` answers
``POST /functions/{id}/execute`` with ``{"result": input + 1}``; with ``--jwt``
it first verifies the bearer token the way the gateway's TokenService does.
"""

import argparse
import multiprocessing
import signal
import socket
import sys
from typing import Any

import jwt
import msgspec
import uvicorn
import uvloop
from litestar import Litestar, Request, Response, post

ISSUER = "jetfaas"
_REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss"]


class ExecuteBody(msgspec.Struct, forbid_unknown_fields=True):
    input: Any


_decoder = msgspec.json.Decoder(ExecuteBody)


def _unauthorized() -> Response[bytes]:
    return Response(b'{"error": "token_invalid"}', status_code=401)


def create_app(secret: str | None) -> Litestar:
    """The floor app; ``secret`` switches on token verification."""

    @post("/functions/{function_id:str}/execute", status_code=200)
    async def execute(
        request: Request[Any, Any, Any], function_id: str
    ) -> Response[bytes]:
        if secret is not None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer":
                return _unauthorized()
            try:
                claims = jwt.decode(
                    token.strip(),
                    secret,
                    algorithms=["HS256"],
                    issuer=ISSUER,
                    options={"require": _REQUIRED_CLAIMS},
                )
            except jwt.InvalidTokenError:
                return _unauthorized()
            if not isinstance(claims["sub"], str) or not claims["sub"]:
                return _unauthorized()

        body = _decoder.decode(await request.body())
        result = msgspec.json.encode({"result": body.input + 1})
        return Response(result, media_type="application/json")

    return Litestar(route_handlers=[execute], debug=False, logging_config=None)


def issue_token(secret: str, *, now: int, ttl_s: int = 3600) -> str:
    """A token with the claims the gateway issues."""
    claims = {"sub": "bench", "iat": now, "exp": now + ttl_s, "iss": ISSUER}
    return jwt.encode(claims, secret, algorithm="HS256")


def _serve(port: int, secret: str | None) -> None:
    # Every process binds its own socket with SO_REUSEPORT, so the kernel
    # spreads connections over the processes as it does for the gateway's.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        create_app(secret),
        loop="none",
        http="httptools",
        access_log=False,
        log_config=None,
        server_header=False,
    )
    uvloop.run(uvicorn.Server(config).serve(sockets=[sock]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jwt", metavar="SECRET", default=None)
    parser.add_argument("--processes", type=int, default=1, help="FAAS_HTTP_WORKERS")
    args = parser.parse_args()

    processes = args.processes
    if processes == 1:
        _serve(args.port, args.jwt)
        return
    children = [
        multiprocessing.Process(target=_serve, args=(args.port, args.jwt))
        for _ in range(processes)
    ]
    for child in children:
        child.start()

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            child.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


if __name__ == "__main__":
    main()
