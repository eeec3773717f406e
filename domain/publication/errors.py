"""The business errors of projects, lots and announcements (those of a lot's configuration are in
domain/publication/procedures)."""

from __future__ import annotations

from domain.common.errors import InvalidInput, InvalidTransition


class RegionUnknown(InvalidInput):
    code = "REGION_UNKNOWN"
    message_zh = "未知的行政区划代码：{value}"
    message_en = "Unknown region code: {value}"

    def __init__(self, value: str) -> None:
        super().__init__(field="regionCode", value=value)


class IndustryUnknown(InvalidInput):
    code = "INDUSTRY_UNKNOWN"
    message_zh = "未知的招标项目类型代码：{value}（工程建设项目适用，如 A01 房屋建筑）"
    message_en = "Unknown 招标项目类型 (industry) code: {value} (for engineering projects, e.g. A01 房屋建筑)"

    def __init__(self, value: str) -> None:
        super().__init__(field="industry", value=value)


class NotATenderer(InvalidInput):
    code = "NOT_A_TENDERER"
    message_zh = "招标人须为已审核通过的招标人主体"
    message_en = "The tenderer must be an approved tenderer organisation"

    def __init__(self) -> None:
        super().__init__(field="tendererId")


class AnnouncementImmutable(InvalidTransition):
    code = "ANNOUNCEMENT_IMMUTABLE"
    message_zh = "公告发布后不可修改，如需更正请发布变更公告"
    message_en = "A published announcement never changes; publish a change announcement instead"


class LotSuspended(InvalidTransition):
    """The supervisor handling a complaint suspended the lot: no transition until it is lifted."""

    code = "LOT_SUSPENDED"
    message_zh = "该标段已被行政监督部门暂停（{reason}），解除暂停前不能变更状态"
    message_en = "The lot is suspended by its supervisor ({reason}); it cannot move until the suspension is lifted"


class TenderNotPublished(InvalidTransition):
    code = "TENDER_NOT_PUBLISHED"
    message_zh = "须先发布该标段的招标公告"
    message_en = "The lot's tender announcement must be published first"
