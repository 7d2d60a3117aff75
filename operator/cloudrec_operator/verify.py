"""``python -m cloudrec_operator verify s3://bucket/prefix/<sid> ...``: check a recording's files.

For anyone holding the files: reads each recording's signed manifest
(``<sid>_<cname>.manifest.json``, found under the given prefix, or named in full), checks its
signature with the backend's callback secret (HMAC-SHA256) or, for a recorder that signs with
an Ed25519 key, with its public key (``--public-key-file``: then only Ed25519 signatures
count), and the bucket against it (every object there with its size; ``--hash`` also reads
each whole and compares its SHA-256). Prints one line per
recording and one per missing or changed object; exit code 0 when every recording is verified,
1 otherwise, 2 for wrong arguments.

Credentials come from the environment as for any S3 tool (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, profiles...); the endpoint from
``--endpoint-url`` or ``AWS_ENDPOINT_URL``; the secret from ``--secret-file`` or
``CLOUDREC_MANIFEST_SECRET``; the public key (PEM) from ``--public-key-file``. The secret is
never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from cloudrec_operator.client.bucket import Bucket, BucketAccess, BucketError
from cloudrec_operator.client.verification import Verdict, verify_manifest
from cloudrec_protocol.manifest import ManifestTrust, is_manifest_name, load_public_key

__all__ = ["SECRET_ENV", "Target", "main", "parse_target"]

SECRET_ENV = "CLOUDREC_MANIFEST_SECRET"


@dataclass(frozen=True)
class Target:
    bucket: str
    key: str
    """A manifest's key, or the prefix (``<prefix>/<sid>``) its key starts with."""


def parse_target(text: str) -> Target:
    """``s3://bucket/key-or-prefix`` -> :class:`Target`; ValueError naming what is wrong."""
    if not text.startswith("s3://"):
        raise ValueError(f"{text!r}: expected s3://bucket/prefix/<sid>")
    bucket, _, key = text.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise ValueError(f"{text!r}: expected s3://bucket/prefix/<sid> (bucket and sid)")
    return Target(bucket, key)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cloudrec_operator verify",
        description="Check that a bucket holds every file of a recording, as its signed "
        "manifest lists them.",
    )
    parser.add_argument(
        "targets",
        nargs="+",
        metavar="s3://BUCKET/PREFIX/SID",
        help="a recording: its sid after the storage prefix, or the manifest's full key",
    )
    parser.add_argument(
        "--secret-file",
        type=Path,
        help=f"file holding the backend's callback secret (default: ${SECRET_ENV})",
    )
    parser.add_argument(
        "--public-key-file",
        type=Path,
        help="file holding the recorder's Ed25519 public key (PEM), for manifests it signs "
        "with its private key (then only Ed25519 signatures are accepted)",
    )
    parser.add_argument(
        "--hash", action="store_true", help="read every object and compare its SHA-256 too"
    )
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="S3 endpoint URL (default: $AWS_ENDPOINT_URL, else AWS)",
    )
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        help="signing region (default: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)",
    )
    parser.add_argument(
        "--addressing-style",
        choices=("path", "virtual"),
        help="default: path with an endpoint URL (S3-compatible stores), virtual without (AWS)",
    )
    return parser


def _trust(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ManifestTrust:
    """The public key (``--public-key-file``) and/or the secret the signatures are checked with."""
    public_key = None
    if args.public_key_file is not None:
        try:
            public_key = load_public_key(Path(args.public_key_file).read_bytes())
        except OSError as error:
            parser.error(f"--public-key-file: cannot read {args.public_key_file}: {error.strerror}")
        except ValueError as error:
            parser.error(f"--public-key-file: {error}")
    if args.secret_file is not None:
        try:
            secret = Path(args.secret_file).read_text().strip()
        except OSError as error:
            parser.error(f"--secret-file: cannot read {args.secret_file}: {error.strerror}")
    else:
        secret = os.environ.get(SECRET_ENV, "").strip()
    if not secret and public_key is None:
        parser.error(
            f"the callback secret (--secret-file or ${SECRET_ENV}) or the recorder's public "
            "key (--public-key-file) is needed"
        )
    return ManifestTrust(secret or None, public_key)


async def _manifests(bucket: Bucket, target: Target) -> list[str]:
    if is_manifest_name(target.key):
        return [target.key]
    return sorted(key for key in await bucket.keys(target.key) if is_manifest_name(key))


def _report(out: TextIO, where: str, verdict: Verdict) -> None:
    if verdict.outcome == "Verified":
        print(f"verified {where}: {verdict.message}", file=out)
        return
    print(f"FAILED {where}: {verdict.reason}: {verdict.message}", file=out)
    for problem in verdict.problems:
        detail = f" ({problem.detail})" if problem.detail else ""
        print(f"  {problem.kind.value.lower()}: {problem.key}{detail}", file=out)


async def _run(
    args: argparse.Namespace, trust: ManifestTrust, targets: list[Target], out: TextIO
) -> int:
    failed = 0
    for target in targets:
        access = BucketAccess(
            bucket=target.bucket,
            endpoint=args.endpoint_url,
            region=args.region,
            addressing_style=args.addressing_style or ("path" if args.endpoint_url else "virtual"),
        )
        async with Bucket(access) as bucket:
            try:
                keys = await _manifests(bucket, target)
            except BucketError as error:
                print(f"FAILED s3://{target.bucket}/{target.key}: {error}", file=out)
                failed += 1
                continue
            if not keys:
                print(
                    f"FAILED s3://{target.bucket}/{target.key}: ManifestMissing: no "
                    f"*.manifest.json under this prefix",
                    file=out,
                )
                failed += 1
                continue
            for key in keys:
                verdict = await verify_manifest(bucket, key, trust, hashes=args.hash)
                _report(out, f"s3://{target.bucket}/{key}", verdict)
                failed += verdict.outcome != "Verified"
    return 1 if failed else 0


def main(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    """Run the check (see the module docstring); the exit code."""
    parser = _parser()
    args = parser.parse_args(list(argv))
    trust = _trust(args, parser)
    try:
        targets = [parse_target(text) for text in args.targets]
    except ValueError as error:
        parser.error(str(error))
    return asyncio.run(_run(args, trust, targets, out))
