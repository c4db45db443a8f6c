"""The catalogue's search page through the test client: filters in the link, a page at a time,
and a wrong price said next to its field with status 400 — never a 500."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.e2e.demo_data import load_demo
from tests.e2e.pages import visible_text
from voucher_app.web import public


def test_a_wrong_price_is_said_next_to_its_field(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    client = app.test_client()
    for query, field, said in (
        ("min_price=abc", "min_price", "请填写以元为单位的金额"),
        ("max_price=-5", "max_price", "请填写以元为单位的金额"),
        ("min_price=8000&max_price=3000", "max_price", "最低价高于最高价"),
    ):
        page = client.get(f"/catalogue?{query}", headers={"Accept-Language": "zh-CN"})
        html = page.get_data(as_text=True)
        assert page.status_code == 400, query
        assert said in visible_text(html.split(f'id="{field}-errors"')[1].split("</ul>")[0])
        assert 'class="product"' not in html


def test_a_search_is_a_link_and_comes_a_page_at_a_time(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(app, runner)
    monkeypatch.setattr(public, "PAGE", 1)
    client = app.test_client()
    first = client.get("/catalogue?center=440000&min_price=1000&max_price=8000")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and html.count('class="product"') == 1
    following = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "center=440000" in following and "min_price=1000" in following
    seen = [html.split("<h2>")[1].split("</h2>")[0]]
    while following:
        page = client.get(following.replace("&amp;", "&")).get_data(as_text=True)
        seen.append(page.split("<h2>")[1].split("</h2>")[0])
        assert "第一页" in page or "First page" in page
        following = (
            page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
            if 'rel="next"' in page
            else ""
        )
    assert sorted(seen) == sorted(["小微企业年度汇算清缴代理", "财务内控诊断", "发明专利申请代理"])
