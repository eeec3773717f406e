"""The trading catalogue (交易目录) categories."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    ENGINEERING_CONSTRUCTION = "engineering_construction"
    GOVERNMENT_PROCUREMENT = "government_procurement"
    LAND_USE_RIGHTS = "land_use_rights"
    MINING_RIGHTS = "mining_rights"
    STATE_OWNED_PROPERTY = "state_owned_property"
    NATURAL_RESOURCE_ASSETS = "natural_resource_assets"
    ENVIRONMENTAL_RIGHTS = "environmental_rights"
    RURAL_COLLECTIVE_PROPERTY = "rural_collective_property"
    MEDICAL_CONSUMABLES = "medical_consumables"
    OTHER = "other"
