"""What can go wrong with a file, each with a stable code and a message in Chinese and English."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError, InvalidInput, InvalidTransition


class PurposeUnknown(InvalidInput):
    code = "DOCUMENT_PURPOSE_UNKNOWN"
    message_zh = "未知的文件用途"
    message_en = "Unknown document purpose"

    def __init__(self) -> None:
        super().__init__(field="purpose")


class FileNameInvalid(InvalidInput):
    code = "DOCUMENT_NAME_INVALID"
    message_zh = "文件名不合法（不得含路径、控制字符，长度 1 至 200 个字符）"
    message_en = "Invalid file name (no path, no control characters, 1 to 200 characters)"

    def __init__(self) -> None:
        super().__init__(field="name")


class DeclaredHashInvalid(InvalidInput):
    code = "DOCUMENT_HASH_INVALID"
    message_zh = "SHA-256 须为 64 位十六进制小写字符"
    message_en = "The SHA-256 must be 64 lowercase hexadecimal characters"

    def __init__(self) -> None:
        super().__init__(field="sha256")


class FileTooLarge(DomainError):
    code = "DOCUMENT_TOO_LARGE"
    message_zh = "文件超过此用途允许的大小（最大 {max_bytes} 字节）"
    message_en = "The file is larger than this purpose allows (at most {max_bytes} bytes)"
    exposed: ClassVar[dict[str, str]] = {"max_bytes": "int"}


class TooManyFiles(DomainError):
    code = "DOCUMENT_COUNT_EXCEEDED"
    message_zh = "此对象的此类文件已达上限（{max_count} 个）"
    message_en = "This object already has the most files of this purpose allowed ({max_count})"
    exposed: ClassVar[dict[str, str]] = {"max_count": "int"}


class FileTypeRefused(DomainError):
    code = "DOCUMENT_TYPE_REFUSED"
    message_zh = "文件类型不被接受（按文件内容识别为 {detected}），允许：{allowed}"
    message_en = "This type of file is not accepted (its content is {detected}); allowed: {allowed}"
    exposed: ClassVar[dict[str, str]] = {"detected": "str", "allowed": "str"}


class FileHashMismatch(DomainError):
    code = "DOCUMENT_HASH_MISMATCH"
    message_zh = "收到的文件与申报的大小或 SHA-256 不一致，文件已删除"
    message_en = "The file received does not match its declared size or SHA-256; it was deleted"


class FileInfected(DomainError):
    code = "DOCUMENT_INFECTED"
    message_zh = "文件含恶意代码（{signature}），已拒收并删除"
    message_en = "The file contains malware ({signature}); it was refused and deleted"
    exposed: ClassVar[dict[str, str]] = {"signature": "str"}


class ScanPending(InvalidTransition):
    code = "DOCUMENT_SCAN_PENDING"
    message_zh = "文件尚未完成病毒扫描（扫描服务暂不可用），暂不能发布，恢复后将自动补扫"
    message_en = "A file has not been scanned for malware yet (the scanner is unavailable); publication waits"


class UploadGrantInvalid(DomainError):
    code = "UPLOAD_GRANT_INVALID"
    message_zh = "上传授权无效、已过期或不属于此上传"
    message_en = "The upload grant is invalid, expired or for another upload"


class UploadExpired(DomainError):
    code = "UPLOAD_EXPIRED"
    message_zh = "上传已过期，请重新发起"
    message_en = "The upload expired; start a new one"


class UploadOffsetMismatch(DomainError):
    code = "UPLOAD_OFFSET_MISMATCH"
    message_zh = "续传位置与服务器已收到的字节数不一致（已收到 {received} 字节）"
    message_en = "The resume offset does not match the bytes the server holds ({received})"
    exposed: ClassVar[dict[str, str]] = {"received": "int"}


class UploadChecksumMismatch(DomainError):
    code = "UPLOAD_CHECKSUM_MISMATCH"
    message_zh = "本段数据校验和不符，已丢弃，请重传本段"
    message_en = "This chunk's checksum does not match; it was discarded, send it again"


class UploadNotFinished(InvalidTransition):
    code = "UPLOAD_NOT_FINISHED"
    message_zh = "文件尚未上传完成"
    message_en = "The file has not been uploaded completely"


class DocumentNotReady(InvalidTransition):
    code = "DOCUMENT_NOT_READY"
    message_zh = "文件不可用（未上传完成、未通过扫描或不属于此对象）"
    message_en = "The document is not usable here (not complete, not scanned, or of another object)"


class BidFileSealed(InvalidTransition):
    code = "BID_FILE_SEALED"
    message_zh = "投标文件在开标解密前任何人不可读取"
    message_en = "A bid file cannot be read by anyone before it is decrypted at the opening"


class StorageUnavailable(DomainError):
    code = "STORAGE_UNAVAILABLE"
    message_zh = "文件存储暂不可用，请稍后重试"
    message_en = "File storage is unavailable; try again later"
