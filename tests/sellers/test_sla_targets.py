"""The SLA targets on both sides of their edge: a "min" target is met at the target, a "max"
one ("late shipment rate < 4%") only below it."""

import pytest

from sellers.selectors import SlaFigure


def figure(value, *, target, direction):
    return SlaFigure(metric="m", label="M", value=value, target=target, direction=direction,
                     trend=[])  # fmt: skip


@pytest.mark.parametrize(("value", "met"), [(0.9499, False), (0.95, True), (0.9501, True)])
def test_sla_min_target_is_met_from_the_target_up(value, met):
    assert figure(value, target=0.95, direction="min").meets_target is met


@pytest.mark.parametrize(("value", "met"), [(0.0399, True), (0.04, False), (0.0401, False)])
def test_sla_max_target_is_met_only_below_the_target(value, met):
    assert figure(value, target=0.04, direction="max").meets_target is met


def test_sla_target_without_a_figure_is_neither_met_nor_missed():
    assert figure(None, target=0.95, direction="min").meets_target is None
