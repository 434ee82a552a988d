"""pytest-mayfly: Mayfly (Cloudflare R2 temporary access credentials and the S3 endpoint that
enforces them) as pytest fixtures, so tests check what a minted credential really allows
instead of stubbing `temp-access-credentials`.

Outside pytest: `with pytest_mayfly.start() as server: ...`.
"""

from .server import Account, Credentials, MayflyError, MayflyServer, find_binary, start

__all__ = ["Account", "Credentials", "MayflyError", "MayflyServer", "find_binary", "start"]
