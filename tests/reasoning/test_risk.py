"""The risk model: each factor computed from the evidence, monotone, within [0, 1]."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.catalog import AccessLevel, Catalog, load_catalog
from alpha.reasoning.evidence import Evidence
from alpha.reasoning.risk import (
    combine,
    estimate_risk,
    good_turing_factor,
    miss_probability,
    window_factor,
)
from tests.reasoning.factories import diff, evidence, obs, steady, with_window

W, PM = AccessLevel.WRITE, AccessLevel.PERMISSIONS_MANAGEMENT


def test_good_turing_figure_is_exact_and_stated(catalog: Catalog) -> None:
    # 3 once-seen actions among 1,234 calls: 3/1,234
    acts = [obs("s3:GetObject", 1000, days=30, span=29), obs("sqs:SendMessage", 231, days=30)]
    acts += [obs(f"ec2:Describe{n}", 1) for n in ("Images", "Vpcs", "Subnets")]
    ev = evidence(acts)
    assert ev.total_calls == 1234
    signal = estimate_risk(ev, catalog)
    factor = signal.factor("good_turing")
    assert factor.probability == pytest.approx(3 / 1234)
    assert "N1/N = 3/1,234 = 0.24%" in signal.rationale
    assert "Observed 1,234 calls of 5 actions over 30 days (2026-10-01 to 2026-10-31)" in (
        signal.rationale
    )


def test_no_calls_means_the_unseen_share_is_unknown(catalog: Catalog) -> None:
    assert good_turing_factor(evidence()).probability == 1.0
    assert estimate_risk(evidence(), catalog).probability_of_break == 1.0


@pytest.mark.parametrize("once", [0, 1, 2, 5, 20])
def test_more_once_seen_actions_raise_the_risk(catalog: Catalog, once: int) -> None:
    def risk(n: int) -> float:
        acts = steady(4) + [obs(f"x:Once{i}", 1) for i in range(n)]
        return estimate_risk(evidence(acts), catalog).probability_of_break

    assert risk(once + 1) > risk(once)


@pytest.mark.parametrize(("short", "long"), [(7, 14), (14, 30), (30, 60), (60, 90), (90, 400)])
def test_a_longer_window_never_raises_the_risk(catalog: Catalog, short: int, long: int) -> None:
    base = evidence([*steady(3), obs("x:Weekly", 4, days=4, span=21)])
    low = estimate_risk(with_window(base, long), catalog).probability_of_break
    high = estimate_risk(with_window(base, short), catalog).probability_of_break
    assert low <= high
    if short < 365:
        assert low < high


def test_the_window_factor_uses_the_share_of_slow_actions() -> None:
    # 2 of 4 used actions are slow (one seen on a single day, one every 7 days)
    acts = [*steady(2), obs("x:Once", 1), obs("x:Weekly", 5, days=5, span=28)]
    factor = window_factor(evidence(acts, window_days=30))
    share = (2 + 1) / (4 + 2)
    assert factor.probability == pytest.approx(share * miss_probability(30))
    assert "(2+1)/(4+2) = 50.00%" in factor.explanation
    assert "longest observed recurrence is 7 days" in factor.explanation


def test_the_miss_probability_vanishes_past_the_longest_period() -> None:
    assert miss_probability(30) == pytest.approx(0.3 * (1 - 30 / 90) + 0.2 * (1 - 30 / 365))
    assert miss_probability(365) == 0.0
    assert miss_probability(0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("fewer", "more"),
    [
        ({}, {W: (100, 10)}),
        ({W: (100, 10)}, {W: (100, 50)}),
        ({W: (100, 50)}, {W: (100, 50), PM: (10, 1)}),
        ({PM: (10, 1)}, {PM: (10, 5)}),
    ],
)
def test_removing_write_and_permissions_grants_raises_the_risk(
    catalog: Catalog,
    fewer: dict[AccessLevel, tuple[int, int]],
    more: dict[AccessLevel, tuple[int, int]],
) -> None:
    acts = steady(3)
    low = estimate_risk(evidence(acts, removed=diff(grants=fewer)), catalog)
    high = estimate_risk(evidence(acts, removed=diff(grants=more)), catalog)
    assert high.probability_of_break > low.probability_of_break


def test_removed_grants_are_weighted_and_capped(catalog: Catalog) -> None:
    ev = evidence(steady(3), removed=diff(grants={W: (200, 40), PM: (10, 5)}))
    factor = estimate_risk(ev, catalog).factor("removed_grants")
    assert factor.probability == pytest.approx(0.15 * 50 / 100)
    assert "40×1 + 5×2 = 50" in factor.explanation
    huge = evidence(steady(3), removed=diff(grants={W: (10**6, 10**6)}))
    assert estimate_risk(huge, catalog).factor("removed_grants").probability < 0.15


def test_read_grants_do_not_count_as_write(catalog: Catalog) -> None:
    ev = evidence(steady(3), removed=diff(grants={AccessLevel.READ: (100, 100)}))
    assert estimate_risk(ev, catalog).factor("removed_grants").probability == 0.0


REMOVED_DATA = [("s3:GetObject", AccessLevel.READ), ("s3:PutObject", W)]


def test_removing_data_plane_actions_unlogged_warns_and_raises(catalog: Catalog) -> None:
    acts = [*steady(3), obs("s3:ListAllMyBuckets", 40, days=20, span=29)]
    removed = diff(REMOVED_DATA)
    logged = estimate_risk(evidence(acts, removed=removed, data_events=True), catalog)
    unlogged = estimate_risk(evidence(acts, removed=removed, data_events=False), catalog)
    assert logged.warnings == ()
    assert unlogged.probability_of_break > logged.probability_of_break + 0.4
    assert unlogged.factor("data_events").probability == pytest.approx(0.5)  # s3 in use
    (warning,) = unlogged.warnings
    assert "data events were not logged" in warning
    assert "2 data-plane actions (s3)" in warning
    assert "WARNING: data events were not logged" in unlogged.rationale


def test_unused_services_weigh_less_than_used_ones(catalog: Catalog) -> None:
    removed = diff([("lambda:InvokeFunction", W), ("dynamodb:GetItem", AccessLevel.READ)])
    signal = estimate_risk(evidence(steady(3), removed=removed, data_events=False), catalog)
    assert signal.factor("data_events").probability == pytest.approx(1 - 0.9 * 0.9)


def test_control_plane_removals_do_not_trigger_the_data_warning(catalog: Catalog) -> None:
    removed = diff([("s3:CreateBucket", W), ("iam:CreateUser", W)])
    signal = estimate_risk(evidence(steady(3), removed=removed, data_events=False), catalog)
    assert signal.warnings == ()
    assert signal.factor("data_events").probability == 0.0


@pytest.mark.parametrize(("allowed", "expected"), [(100, 0.0), (99, 0.505), (50, 0.75)])
def test_partial_replay_raises_the_risk(catalog: Catalog, allowed: int, expected: float) -> None:
    ev = evidence(steady(2, calls=50), replay=(100, allowed))
    signal = estimate_risk(ev, catalog)
    assert signal.factor("replay").probability == pytest.approx(expected)
    full = estimate_risk(evidence(steady(2, calls=50), replay=(100, 100)), catalog)
    if allowed < 100:
        assert signal.probability_of_break > full.probability_of_break
        assert f"{allowed} of 100 observed calls are allowed" in signal.rationale


def test_denied_calls_raise_the_risk(catalog: Catalog) -> None:
    clean = evidence([*steady(2), obs("s3:GetObject", 10, days=10, span=29)])
    refused = evidence([*steady(2), obs("s3:GetObject", 10, days=10, span=29, denied=10)])
    a, b = estimate_risk(clean, catalog), estimate_risk(refused, catalog)
    assert b.probability_of_break > a.probability_of_break
    assert b.factor("denied").probability == pytest.approx(0.5 * 10 / 2020)
    assert "10 calls were denied (of 2,020 attempted)" in b.rationale


def test_the_total_is_the_documented_combination(catalog: Catalog) -> None:
    ev = evidence(
        [*steady(2), obs("x:Once", 1)],
        window_days=14,
        removed=diff(REMOVED_DATA, {W: (10, 10)}),
        data_events=False,
        replay=(2001, 2000),
    )
    signal = estimate_risk(ev, catalog)
    keep = 1.0
    for factor in signal.factors:
        keep *= 1 - factor.probability
    assert signal.probability_of_break == pytest.approx(1 - keep)
    assert f"probability of break {signal.probability_of_break * 100:.2f}%" in signal.rationale


probabilities = st.lists(st.floats(min_value=0, max_value=1), min_size=0, max_size=8)


@given(probabilities, st.integers(min_value=0, max_value=7), st.floats(0, 1))
def test_combination_is_within_bounds_and_monotone(ps: list[float], i: int, bump: float) -> None:
    total = combine(ps)
    assert 0.0 <= total <= 1.0
    if ps:
        raised = list(ps)
        k = i % len(ps)
        raised[k] = min(1.0, raised[k] + bump)
        assert combine(raised) >= total - 1e-12


action_obs = st.builds(
    lambda i, calls, days, span, denied: obs(
        f"svc{i}:A{i}", calls, days=days, span=span, denied=denied
    ),
    st.integers(0, 50),
    st.integers(0, 10_000),
    st.integers(1, 60),
    st.floats(0, 60),
    st.integers(0, 50),
)
evidences = st.builds(
    lambda acts, window, writes, pm, logged, missed: evidence(
        {a.action: a for a in acts}.values(),
        window_days=window,
        removed=diff([("s3:GetObject", AccessLevel.READ)], {W: (writes, writes), PM: (pm, pm)}),
        data_events=logged,
        replay=(10, 10 - missed),
    ),
    st.lists(action_obs, max_size=12),
    st.floats(0, 800),
    st.integers(0, 5000),
    st.integers(0, 500),
    st.booleans(),
    st.integers(0, 10),
)


@settings(max_examples=150, deadline=None)
@given(evidences, st.floats(0, 400), st.integers(1, 1000))
def test_probability_is_bounded_and_monotone_in_the_evidence(
    ev: Evidence, longer: float, more: int
) -> None:
    catalog = load_catalog()
    base = estimate_risk(ev, catalog).probability_of_break
    assert 0.0 <= base <= 1.0
    # a longer window never raises it
    assert (
        estimate_risk(with_window(ev, ev.window_days + longer), catalog).probability_of_break
        <= base + 1e-12
    )
    # an extra once-seen action never lowers it
    once = replace(ev, actions=(*ev.actions, obs("zz:OnceMore", 1)))
    assert estimate_risk(once, catalog).probability_of_break >= base - 1e-12
    # removing more write grants never lowers it
    w, pm = ev.diff.removed_at(W), ev.diff.removed_at(PM)
    wider = replace(
        ev, diff=diff([("s3:GetObject", AccessLevel.READ)], {W: (w + more, w + more), PM: (pm, pm)})
    )
    assert estimate_risk(wider, catalog).probability_of_break >= base - 1e-12
    # losing data events never lowers it
    unlogged = replace(ev, data_events_logged=False)
    assert estimate_risk(unlogged, catalog).probability_of_break >= base - 1e-12
