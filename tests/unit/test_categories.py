"""The service categories (`voucher_app.domain.categories`): the twelve the provincial policy
names, as listed in `reference/README.md`, each with a stable code and its Chinese and English
names."""

from __future__ import annotations

from voucher_app.domain.categories import CATEGORIES, CATEGORY_CODES, ServiceCategory

#: Written out from the reference: (code, Chinese name) in the policy's order.
POLICY_CATEGORIES = [
    ("policy_consulting", "政策咨询"),
    ("government_affairs", "政务代理"),
    ("management_consulting", "管理咨询"),
    ("legal", "法律服务"),
    ("accounting_tax", "财税服务"),
    ("training", "人才培训"),
    ("technology_testing", "技术创新与检验检测"),
    ("financing", "投融资服务"),
    ("market_development", "市场开拓"),
    ("digital_transformation", "信息化与数字化转型"),
    ("intellectual_property", "知识产权"),
    ("entrepreneurship", "创业辅导"),
]


def test_the_categories_are_the_twelve_the_policy_names_in_its_order() -> None:
    assert [(c.code, c.name_zh) for c in CATEGORIES] == POLICY_CATEGORIES


def test_every_category_has_an_english_name_and_the_codes_are_exactly_theirs() -> None:
    assert all(isinstance(c, ServiceCategory) and c.name_en.isascii() for c in CATEGORIES)
    assert all(c.name_en.strip() for c in CATEGORIES)
    assert {code for code, _ in POLICY_CATEGORIES} == CATEGORY_CODES
