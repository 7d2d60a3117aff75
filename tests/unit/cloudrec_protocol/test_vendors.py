"""storageConfig vendor + region -> S3 endpoint, one row per mapping (protocol.md §4)."""

from __future__ import annotations

import pytest

from cloudrec_protocol.vendors import S3Endpoint, StorageConfigError, resolve_endpoint

CASES = [
    # (vendor, region, endpoint override, expected)
    (0, 0, None, S3Endpoint("https://s3.cn-east-1.qiniucs.com", "cn-east-1", "virtual")),
    (0, 3, None, S3Endpoint("https://s3.us-north-1.qiniucs.com", "us-north-1", "virtual")),
    (1, 0, None, S3Endpoint("https://s3.us-east-1.amazonaws.com", "us-east-1", "virtual")),
    (1, 7, None, S3Endpoint("https://s3.eu-central-1.amazonaws.com", "eu-central-1", "virtual")),
    (1, 15, None, S3Endpoint("https://s3.cn-north-1.amazonaws.com.cn", "cn-north-1", "virtual")),
    (1, 28, None, S3Endpoint("https://s3.il-central-1.amazonaws.com", "il-central-1", "virtual")),
    (2, 0, None, S3Endpoint("https://s3.oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou", "virtual")),
    (2, 18, None, S3Endpoint("https://s3.oss-me-east-1.aliyuncs.com", "me-east-1", "virtual")),
    (3, 2, None, S3Endpoint("https://cos.ap-shanghai.myqcloud.com", "ap-shanghai", "virtual")),
    (3, 19, None, S3Endpoint("https://cos.eu-moscow.myqcloud.com", "eu-moscow", "virtual")),
    (4, 3, None, S3Endpoint("https://ks3-cn-beijing.ksyuncs.com", "cn-beijing", "virtual")),
    (4, 9, None, S3Endpoint("https://ks3-sgp.ksyuncs.com", "sgp", "virtual")),
    (6, 0, None, S3Endpoint("https://storage.googleapis.com", "auto", "path")),
    (7, 1, None, S3Endpoint("https://obs.cn-north-4.myhuaweicloud.com", "cn-north-4", "virtual")),
    (7, 15, None, S3Endpoint("https://obs.sa-chile-1.myhuaweicloud.com", "sa-chile-1", "virtual")),
    (8, 0, None, S3Endpoint("https://s3.bj.bcebos.com", "bj", "virtual")),
    (8, 7, None, S3Endpoint("https://s3.fsh.bcebos.com", "fsh", "virtual")),
    (11, 0, "minio.example.com", S3Endpoint("https://minio.example.com", "us-east-1", "path")),
    (11, 0, "http://127.0.0.1:7070/", S3Endpoint("http://127.0.0.1:7070", "us-east-1", "path")),
    (1, 0, "vpce.example.com", S3Endpoint("https://vpce.example.com", "us-east-1", "virtual")),
]


@pytest.mark.parametrize(
    ("vendor", "region", "endpoint", "expected"),
    CASES,
    ids=[f"vendor{v}-region{r}" + ("-explicit" if e else "") for v, r, e, _ in CASES],
)
def test_each_vendor_and_region_maps_to_its_s3_endpoint(
    vendor: int, region: int, endpoint: str | None, expected: S3Endpoint
) -> None:
    assert resolve_endpoint(vendor, region, endpoint) == expected


REFUSED = [
    (5, 0, None, "Azure Blob"),
    (9, 0, None, "not a known vendor"),
    (11, 0, None, "needs extensionParams.endpoint"),
    (1, 26, None, "not a known region"),
    (2, 26, None, "not a known region"),
    (0, 5, None, "not a known region"),
    (3, -1, None, "not a known region"),
    (11, 0, "ftp://host", "host name or an http"),
    (11, 0, "https://host/bucket", "not a path"),
]


@pytest.mark.parametrize(
    ("vendor", "region", "endpoint", "message"),
    REFUSED,
    ids=[m.replace(" ", "-") + f"-{v}-{r}" for v, r, _, m in REFUSED],
)
def test_unusable_storage_configs_are_refused_with_code_2_and_a_clear_message(
    vendor: int, region: int, endpoint: str | None, message: str
) -> None:
    with pytest.raises(StorageConfigError, match=message) as caught:
        resolve_endpoint(vendor, region, endpoint)
    assert caught.value.code == 2
