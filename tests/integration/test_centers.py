"""The center hierarchy: import from CSV, re-import, subtree queries, refusal of bad files."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests import factories
from voucher_app.domain.errors import InvalidCenterData, UnknownCenter
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Center
from voucher_app.services import centers


def test_guangdong_imports_with_its_21_cities_and_reimports_unchanged(uow: UnitOfWork) -> None:
    first = centers.import_centers(uow, centers.guangdong_centers())
    again = centers.import_centers(uow, centers.guangdong_centers())
    listed = centers.list_subtree(uow, "440000")
    assert first.created == 47
    assert (again.created, again.updated, again.unchanged) == (0, 0, 47)
    assert sum(1 for c in listed if c.level == "city") == 21
    assert listed[0].code == "440000"
    assert listed[0].parent_code is None


def test_subtree_holds_the_center_and_its_descendants_only(uow: UnitOfWork) -> None:
    factories.guangdong(uow)
    guangzhou = {c.code for c in centers.list_subtree(uow, "440100")}
    dongguan = {c.code for c in centers.list_subtree(uow, "441900")}
    tianhe = centers.list_subtree(uow, "440106")
    assert "440100" in guangzhou and "440106" in guangzhou and "440113" in guangzhou
    assert "440300" not in guangzhou and "440305" not in guangzhou and "440000" not in guangzhou
    assert dongguan == {"441900"}  # Dongguan has no county level
    assert [(c.code, c.parent_code) for c in tianhe] == [("440106", "440100")]


def test_unknown_center_is_a_clear_error(uow: UnitOfWork) -> None:
    factories.guangdong(uow)
    with pytest.raises(UnknownCenter) as raised:
        centers.list_subtree(uow, "449999")
    assert raised.value.code == "unknown_center"


BAD_FILES = {
    "orphan": "440000,广东省,Guangdong,province,\n440100,广州市,Guangzhou,city,449900\n",
    "wrong level": "440000,广东省,Guangdong,province,\n440103,荔湾区,Liwan,county,440000\n",
    "bad code": "440000,广东省,Guangdong,province,\n44A100,广州市,Guangzhou,city,440000\n",
    "duplicate": "440000,广东省,Guangdong,province,\n440000,广东省,Guangdong,province,\n",
    "unknown level": "440000,广东省,Guangdong,planet,\n",
    "missing name": "440000,,Guangdong,province,\n",
}


@pytest.mark.parametrize("body", list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_a_bad_file_is_refused_whole_and_nothing_is_stored(uow: UnitOfWork, body: str) -> None:
    handle = io.StringIO("code,name_zh,name_en,level,parent_code\n" + body)
    with pytest.raises(InvalidCenterData):
        centers.import_centers(uow, centers.read_center_csv(handle))
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(Center)) == 0


def test_a_center_cannot_move_to_another_parent(uow: UnitOfWork) -> None:
    factories.guangdong(uow)
    moved = "code,name_zh,name_en,level,parent_code\n" + "\n".join(
        [
            "440000,广东省,Guangdong Province,province,",
            "440100,广州市,Guangzhou,city,440000",
            "440300,深圳市,Shenzhen,city,440000",
            "440106,天河区,Tianhe District,county,440300",
        ]
    )
    with pytest.raises(InvalidCenterData, match="440106"):
        centers.import_centers(uow, centers.read_center_csv(io.StringIO(moved)))
    assert {c.code for c in centers.list_subtree(uow, "440100")} >= {"440106"}
