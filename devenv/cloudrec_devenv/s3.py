"""A local S3-compatible server: versitygw with its posix backend in a temp dir.

``S3Server`` starts ``versitygw`` (built from Go modules by ``hack/tools.sh``) on
127.0.0.1 with root credentials generated for this instance. Buckets are
directories under :attr:`S3Server.data_dir`, objects are plain files, so a
test can also look at what landed on disk. :meth:`S3Server.stop` followed by
:meth:`S3Server.start` restarts it on the same port with the same data
(outage tests); :meth:`S3Server.pause` / :meth:`S3Server.resume` freeze it instead (a
store that hangs: connections open, no answer). Object metadata lives in extended
attributes; where the filesystem has none, a sidecar directory holds it instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.tools import tool


def _xattrs_work(directory: Path) -> bool:
    """Whether files in ``directory`` take ``user.*`` extended attributes."""
    probe = directory / ".xattr-probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.cloudrec", b"1")
    except OSError:
        return False
    finally:
        probe.unlink()
    return True


class S3Server:
    """versitygw on ``127.0.0.1:<port>``; ``endpoint`` is its base URL.

    The secret key is generated per instance and never printed; ``repr`` shows
    the endpoint only.
    """

    def __init__(self, base_dir: Path | None = None, *, region: str = "us-east-1") -> None:
        self._own_tmp: tempfile.TemporaryDirectory[str] | None = None
        if base_dir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix="cloudrec-s3-")
            base_dir = Path(self._own_tmp.name)
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.region = region
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.access_key = "vgw" + secrets.token_hex(8)
        self.secret_key = secrets.token_urlsafe(30)
        self._process: ManagedProcess | None = None
        self._s3_client: Any = None

    def __repr__(self) -> str:
        return f"S3Server(endpoint={self.endpoint!r})"

    def _argv(self) -> list[str]:
        argv = [
            str(tool("versitygw")),
            "--port",
            f"127.0.0.1:{self.port}",
            "--region",
            self.region,
            "--quiet",
            "posix",
        ]
        if not _xattrs_work(self.data_dir):
            sidecar = self.base_dir / "sidecar"
            sidecar.mkdir(exist_ok=True)
            argv += ["--sidecar", str(sidecar)]
        return [*argv, str(self.data_dir)]

    def start(self, timeout: float = 30.0) -> S3Server:
        """Start (or restart) the server and wait until it answers HTTP."""
        if self._process is not None and self._process.running():
            return self
        env = dict(os.environ)
        env["ROOT_ACCESS_KEY"] = self.access_key
        env["ROOT_SECRET_KEY"] = self.secret_key
        self._process = ManagedProcess(
            "versitygw", self._argv(), self.base_dir / "versitygw.log", env=env
        ).start()
        # Any HTTP answer (403 without credentials) means it is serving.
        self._process.wait_http(self.endpoint + "/", timeout=timeout, ok=lambda _r: True)
        return self

    def stop(self) -> None:
        """Stop the server; data and port stay for a later :meth:`start`."""
        if self._process is not None:
            self._process.stop()
            self._process = None

    def pause(self) -> None:
        """SIGSTOP the server: connections are accepted by the kernel but never answered
        (a store that hangs), until :meth:`resume`."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a server that :meth:`pause` stopped."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGCONT)

    @property
    def pid(self) -> int | None:
        """The versitygw process id while it runs (benchmarks read its CPU time)."""
        return None if self._process is None else self._process.pid

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    def close(self) -> None:
        """Stop and remove the temp dir this instance made."""
        self.stop()
        if self._own_tmp is not None:
            with contextlib.suppress(OSError):
                self._own_tmp.cleanup()
            self._own_tmp = None

    def _client(self) -> Any:
        """One S3 client per server, made at first use (a client is thread-safe; making one
        parses botocore's data files, which costs about a second on a busy machine)."""
        if self._s3_client is None:
            self._s3_client = self._new_client()
        return self._s3_client

    def _new_client(self) -> Any:
        # botocore comes with the recorder extra; the operator itself never needs it.
        import botocore.config
        import botocore.session

        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=botocore.config.Config(s3={"addressing_style": "path"}),
        )

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` through the S3 API (so it has an owner and ACL)."""
        client = self._client()
        client.create_bucket(Bucket=name)

    def object_keys(self, bucket: str) -> list[str]:
        """Every key in ``bucket`` (paginated listing through the S3 API)."""
        client = self._client()
        keys: list[str] = []
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys += [str(item["Key"]) for item in page.get("Contents", [])]
        return sorted(keys)

    def get_object(self, bucket: str, key: str) -> bytes:
        """The bytes of one object, read through the S3 API."""
        client = self._client()
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def put_object(self, bucket: str, key: str, data: bytes) -> None:
        """Write (or overwrite) one object through the S3 API."""
        self._client().put_object(Bucket=bucket, Key=key, Body=data)

    def delete_object(self, bucket: str, key: str) -> None:
        """Delete one object through the S3 API."""
        self._client().delete_object(Bucket=bucket, Key=key)

    def object_tags(self, bucket: str, key: str) -> dict[str, str]:
        """The tags of one object (S3 object tagging), as a dict."""
        tag_set = self._client().get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        return {str(tag["Key"]): str(tag["Value"]) for tag in tag_set}

    def begin_multipart_upload(self, bucket: str, key: str, part: bytes) -> str:
        """Start a multipart upload of ``key`` with one part and leave it unfinished (as a
        killed uploader does); returns its upload id."""
        client = self._client()
        upload_id = str(client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
        client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=part)
        return upload_id

    def unfinished_uploads(self, bucket: str) -> list[str]:
        """Keys of the multipart uploads in ``bucket`` neither completed nor aborted."""
        client = self._client()
        keys: list[str] = []
        paginator = client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=bucket):
            keys += [str(item["Key"]) for item in page.get("Uploads", [])]
        return sorted(keys)

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["S3Server"]
