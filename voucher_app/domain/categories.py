"""The service categories the provincial policy names (see shared/reference/README.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceCategory:
    code: str
    name_zh: str
    name_en: str


CATEGORIES: tuple[ServiceCategory, ...] = (
    ServiceCategory("policy_consulting", "政策咨询", "Policy consulting"),
    ServiceCategory("government_affairs", "政务代理", "Government-affairs agency"),
    ServiceCategory("management_consulting", "管理咨询", "Management consulting"),
    ServiceCategory("legal", "法律服务", "Legal services"),
    ServiceCategory("accounting_tax", "财税服务", "Accounting and tax"),
    ServiceCategory("training", "人才培训", "Talent training"),
    ServiceCategory(
        "technology_testing", "技术创新与检验检测", "Technology innovation and testing"
    ),
    ServiceCategory("financing", "投融资服务", "Investment and financing"),
    ServiceCategory("market_development", "市场开拓", "Market development"),
    ServiceCategory(
        "digital_transformation", "信息化与数字化转型", "Informatization and digital transformation"
    ),
    ServiceCategory("intellectual_property", "知识产权", "Intellectual property"),
    ServiceCategory("entrepreneurship", "创业辅导", "Entrepreneurship guidance"),
)

CATEGORY_CODES = frozenset(c.code for c in CATEGORIES)
BY_CODE = {c.code: c for c in CATEGORIES}
