"""Storage: upload the spool to S3-compatible stores, backup and re-upload.

Modules (import what you need; this package imports nothing itself):

* :mod:`.vendors`: storageConfig vendor + region -> S3 endpoint (pure).
* :mod:`.target`: ``StorageTarget`` (credentials as ``SecretStr``), built from a
  storageConfig; sealed on disk with Fernet.
* :mod:`.files`: file names and playlists -> ``FileInfo`` (the protocol's fileList items).
* :mod:`.errors`: uploader error / warning codes (protocol.md §7.6).
* :mod:`.backup`: ``BackupStore``, the directory files go to when the bucket fails.
* :mod:`.backup_bucket`: ``BackupBucket``, an optional second bucket mirroring it.
* :mod:`.uploader`: ``Uploader`` (aiobotocore), ``EventSink``, ``UploadPolicy``, ``UploadResult``.
* :mod:`.recovery`: ``recover()`` after a restart.
* :mod:`.spool`: removing a recording's spool once it is delivered.
"""
