"""storageConfig ``vendor`` + ``region`` -> S3 endpoint and signing region (pure).

protocol.md §4 numbers the vendors and, per vendor, the regions. Every vendor
but Azure Blob speaks the S3 API (AWS Signature V4), so one S3 client serves
them all once we know the endpoint URL, the region string that goes into the
signature and the addressing style the store wants:

======  ==============================  ==============================================
vendor  store                           endpoint
======  ==============================  ==============================================
0       Qiniu Kodo                      ``https://s3.<region>.qiniucs.com``
1       Amazon S3                       ``https://s3.<region>.amazonaws.com(.cn)``
2       Alibaba Cloud OSS               ``https://s3.oss-<region>.aliyuncs.com``
3       Tencent Cloud COS               ``https://cos.<region>.myqcloud.com``
4       Kingsoft Cloud KS3              ``https://ks3-<region>.ksyuncs.com``
5       Microsoft Azure Blob            refused: not S3-compatible (code 2)
6       Google Cloud Storage (interop)  ``https://storage.googleapis.com`` (HMAC keys)
7       Huawei Cloud OBS                ``https://obs.<region>.myhuaweicloud.com``
8       Baidu AI Cloud BOS              ``https://s3.<region>.bcebos.com``
11      S3-compatible store             ``extensionParams.endpoint`` (required)
======  ==============================  ==============================================

An explicit ``extensionParams.endpoint`` overrides the table for every vendor
(private links, on-premises gateways, tests). A bare host name means HTTPS; a
URL keeps its scheme and port. A region the table does not know is refused
with :class:`StorageConfigError`, whose ``code`` (2, invalid parameter) the
recorder returns from ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from cloudrec_protocol.codes import ErrorCode
from cloudrec_protocol.enums import StorageVendor

AddressingStyle = Literal["path", "virtual"]


Vendor = StorageVendor
"""storageConfig ``vendor`` codes (protocol.md §4.1): the protocol's own enum."""


class StorageConfigError(ValueError):
    """A storageConfig this recorder cannot use; ``code`` is the protocol's error code."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.INVALID_PARAMETER) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class S3Endpoint:
    """Where and how to talk S3 to a vendor's region."""

    url: str
    """Endpoint URL with scheme, e.g. ``https://s3.eu-west-1.amazonaws.com``."""
    signing_region: str
    """Region string in the Signature V4 scope."""
    addressing_style: AddressingStyle
    """``virtual`` (bucket in the host name) or ``path`` (bucket in the path)."""


QINIU_REGIONS = ("cn-east-1", "cn-north-1", "cn-south-1", "us-north-1", "ap-southeast-1")
"""Qiniu z0 Huadong, z1 Huabei, z2 Huanan, na0 North America, as0 Southeast Asia."""

AWS_REGIONS: dict[int, str] = {
    0: "us-east-1",
    1: "us-east-2",
    2: "us-west-1",
    3: "us-west-2",
    4: "eu-west-1",
    5: "eu-west-2",
    6: "eu-west-3",
    7: "eu-central-1",
    8: "ap-southeast-1",
    9: "ap-southeast-2",
    10: "ap-northeast-1",
    11: "ap-northeast-2",
    12: "sa-east-1",
    13: "ca-central-1",
    14: "ap-south-1",
    15: "cn-north-1",
    16: "cn-northwest-1",
    17: "us-gov-west-1",
    18: "af-south-1",
    19: "ap-east-1",
    20: "ap-northeast-3",
    21: "eu-north-1",
    22: "me-south-1",
    23: "us-gov-east-1",
    24: "ap-southeast-3",
    25: "eu-south-1",
    28: "il-central-1",
}

ALIBABA_REGIONS = (
    "cn-hangzhou",
    "cn-shanghai",
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-shenzhen",
    "cn-hongkong",
    "us-west-1",
    "us-east-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-northeast-1",
    "ap-south-1",
    "eu-central-1",
    "eu-west-1",
    "me-east-1",  # the protocol's "EU_East_1" is OSS's Middle East 1 (Dubai)
    "ap-southeast-6",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wulanchabu",
)
"""Codes 0-25; 26 (CN_Northeast_2) and 27 (CN_Southeast_7) name no OSS region we can
confirm, so they need an explicit endpoint."""

TENCENT_REGIONS = (
    "ap-beijing-1",
    "ap-beijing",
    "ap-shanghai",
    "ap-guangzhou",
    "ap-chengdu",
    "ap-chongqing",
    "ap-shenzhen-fsi",
    "ap-shanghai-fsi",
    "ap-beijing-fsi",
    "ap-hongkong",
    "ap-singapore",
    "ap-mumbai",
    "ap-seoul",
    "ap-bangkok",
    "ap-tokyo",
    "na-siliconvalley",
    "na-ashburn",
    "na-toronto",
    "eu-frankfurt",
    "eu-moscow",
)

KINGSOFT_REGIONS = (
    "cn-hangzhou",
    "cn-shanghai",
    "cn-qingdao",
    "cn-beijing",
    "cn-guangzhou",
    "cn-hk-1",
    "jr-beijing",
    "jr-shanghai",
    "rus",
    "sgp",
)

HUAWEI_REGIONS = (
    "cn-north-1",
    "cn-north-4",
    "cn-east-2",
    "cn-east-3",
    "cn-south-1",
    "cn-southwest-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "af-south-1",
    "sa-argentina-1",
    "sa-peru-1",
    "na-mexico-1",
    "sa-brazil-1",
    "la-south-2",
    "sa-chile-1",
)

BAIDU_REGIONS = ("bj", "bd", "su", "gz", "hkg", "sin", "fwh", "fsh")
"""0 Beijing (one doc only; the others start at 1), 1 Baoding, 2 Suzhou, 3 Guangzhou,
4 Hong Kong, 5 Singapore, 6 Wuhan, 7 Shanghai."""

GENERIC_SIGNING_REGION = "us-east-1"
"""What self-hosted S3 stores (MinIO, versitygw, Ceph RGW, ...) accept by default."""


def _pick(table: tuple[str, ...] | dict[int, str], vendor: Vendor, region: int) -> str:
    found = (
        table.get(region)
        if isinstance(table, dict)
        else (table[region] if 0 <= region < len(table) else None)
    )
    if found is None:
        raise StorageConfigError(
            f"storageConfig.region {region} is not a known region of vendor "
            f"{int(vendor)} ({vendor.name}); give extensionParams.endpoint to use it anyway"
        )
    return found


def explicit_endpoint(value: str) -> str:
    """``extensionParams.endpoint`` as a URL: a bare host means HTTPS."""
    text = value.strip().rstrip("/")
    if not text:
        raise StorageConfigError("storageConfig.extensionParams.endpoint is empty")
    url = text if "://" in text else f"https://{text}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StorageConfigError(
            "storageConfig.extensionParams.endpoint must be a host name or an http(s) URL"
        )
    if parts.path or parts.query or parts.fragment:
        raise StorageConfigError(
            "storageConfig.extensionParams.endpoint must name a host, not a path"
        )
    return url


def resolve_endpoint(vendor: int, region: int, endpoint: str | None = None) -> S3Endpoint:
    """The S3 endpoint for a storageConfig, or :class:`StorageConfigError` (code 2)."""
    try:
        known = Vendor(vendor)
    except ValueError:
        raise StorageConfigError(f"storageConfig.vendor {vendor} is not a known vendor") from None
    if known is Vendor.AZURE:
        raise StorageConfigError(
            "storageConfig.vendor 5 (Microsoft Azure Blob) is not S3-compatible and this "
            "recorder does not support it yet; use an S3-compatible vendor"
        )
    explicit = explicit_endpoint(endpoint) if endpoint else None
    if known is Vendor.S3_COMPATIBLE:
        if explicit is None:
            raise StorageConfigError(
                "storageConfig.vendor 11 (S3-compatible) needs extensionParams.endpoint"
            )
        return S3Endpoint(explicit, GENERIC_SIGNING_REGION, "path")
    if known is Vendor.GOOGLE:
        return S3Endpoint(explicit or "https://storage.googleapis.com", "auto", "path")
    name, url, style = _table_endpoint(known, region)
    return S3Endpoint(explicit or url, name, style)


def _table_endpoint(vendor: Vendor, region: int) -> tuple[str, str, AddressingStyle]:
    """(signing region, endpoint URL, addressing style) from the §4 tables."""
    if vendor is Vendor.QINIU:
        name = _pick(QINIU_REGIONS, vendor, region)
        return name, f"https://s3.{name}.qiniucs.com", "virtual"
    if vendor is Vendor.AMAZON_S3:
        name = _pick(AWS_REGIONS, vendor, region)
        suffix = ".cn" if name.startswith("cn-") else ""
        return name, f"https://s3.{name}.amazonaws.com{suffix}", "virtual"
    if vendor is Vendor.ALIBABA:
        name = _pick(ALIBABA_REGIONS, vendor, region)
        return name, f"https://s3.oss-{name}.aliyuncs.com", "virtual"
    if vendor is Vendor.TENCENT:
        name = _pick(TENCENT_REGIONS, vendor, region)
        return name, f"https://cos.{name}.myqcloud.com", "virtual"
    if vendor is Vendor.KINGSOFT:
        name = _pick(KINGSOFT_REGIONS, vendor, region)
        return name, f"https://ks3-{name}.ksyuncs.com", "virtual"
    if vendor is Vendor.HUAWEI:
        name = _pick(HUAWEI_REGIONS, vendor, region)
        return name, f"https://obs.{name}.myhuaweicloud.com", "virtual"
    name = _pick(BAIDU_REGIONS, vendor, region)
    return name, f"https://s3.{name}.bcebos.com", "virtual"


__all__ = [
    "S3Endpoint",
    "StorageConfigError",
    "Vendor",
    "explicit_endpoint",
    "resolve_endpoint",
]
