"""The REST venue template's call loop and order rules, driven by a scripted venue: each call to
the "venue" takes the next outcome from a script (an answer, an error the answer carries, an
exception the client library raises, a lost request), so every branch is reached on purpose."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from execution import clock
from execution.exchanges.errors import (
    AuthError,
    BadRequest,
    ClockSkew,
    InsufficientMargin,
    MalformedAnswer,
    OrderNotFound,
    RateLimited,
    SafeModeRefused,
    UnknownOutcome,
    VenueError,
    VenueUnavailable,
    code_table,
    http_error,
)
from execution.exchanges.rest_venue import Lost, RestVenue
from execution.exchanges.throttle import RateLimit, Throttler
from execution.models import (
    FeeSchedule,
    Listing,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from tests.fakes.virtual_time import VirtualClock

NAME = "scripted"


class LibraryError(Exception):
    """What a client library raises for an error answer (python-binance style)."""

    def __init__(self, error: VenueError):
        super().__init__(error.message)
        self.error = error


class NetworkError(Exception):
    def __init__(self, timed_out: bool, may_have_arrived: bool):
        super().__init__("network")
        self.lost = Lost(timed_out, may_have_arrived)


def throttler(vc: VirtualClock, limit: int = 1000, max_wait_s: float = 2.0) -> Throttler:
    return Throttler(
        NAME,
        [RateLimit("W", limit, 1.0)],
        {},
        default_cost=(("W", 1),),
        clock=vc,
        sleep=vc.sleep,
        max_wait_s=max_wait_s,
    )


class ScriptedVenue(RestVenue):
    name = NAME
    DUPLICATE_ID_CODES = frozenset({"DUP"})
    POST_ONLY_CROSSED_CODES = frozenset({"CROSS"})

    def __init__(self, script: list[Any], thr: Throttler | None = None, **kw: Any):
        super().__init__(
            safe_mode=kw.pop("safe_mode", False),
            config_fees=FeeSchedule(D("0.0002"), D("0.0004")),
            throttler=thr or throttler(VirtualClock()),
            reconcile_delays_s=(0.0, 0.5),
            sleep=self._slept,
            filters_ttl_ms=60_000,
            secrets=("key-123456",),
        )
        self.script = list(script)
        self.calls = 0  # scripted calls that reached the venue
        self.time_calls = 0
        self.known: dict[str, Order] = {}  # orders the venue has, by client order id
        self.lookups = 0
        self.slept: list[float] = []
        self.server_ahead_ms = 0

    def _slept(self, s: float) -> None:
        self.slept.append(s)

    # the venue: scripted answers, a clock, an order book by client order id
    def answer(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception) and not isinstance(outcome, VenueError):
            raise outcome  # the library raised
        return outcome

    def server_time(self) -> dict[str, int]:
        self.time_calls += 1
        return {"ts": clock.wall_ms() + self.server_ahead_ms}

    def lookup(self, cid: str) -> Any:
        self.lookups += 1
        return self.known.get(cid) or OrderNotFound(NAME, "NF", "Order does not exist.")

    # hooks
    def _invoke(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = fn(*args, **kwargs)
        if isinstance(result, VenueError):  # an error the answer carries (python-okx style)
            raise result
        return result

    def _lost_request(self, exc: Exception) -> Lost | None:
        return exc.lost if isinstance(exc, NetworkError) else None

    def _library_error(self, exc: Exception) -> VenueError | None:
        return exc.error if isinstance(exc, LibraryError) else None

    def _time_request(self) -> tuple[str, Any]:
        return "time", self.server_time

    def _server_ms(self, result: Any) -> int:
        return int(result["ts"])

    def _use_clock_offset(self, offset_ms: float) -> None:
        self.offset_used = offset_ms

    def _fetch_filters(self) -> Listing:
        return Listing()

    def _fetch_fees(self, symbol: str) -> FeeSchedule:
        raise VenueUnavailable(NAME, "X", "no fees here")

    def _unknown_symbol(self, symbol: str) -> VenueError:
        return BadRequest(NAME, "SYM", symbol)

    def _order_body(self, request: OrderRequest) -> dict[str, Any]:
        side, reduce_only = self._position_fields(request)
        return {"cid": request.client_order_id, "side": side, "reduce_only": reduce_only}

    def _safe_mode_refusal(self, request: OrderRequest, body: dict[str, Any]) -> SafeModeRefused:
        return SafeModeRefused(NAME, "SAFE_MODE", "not sent")

    def _submit(self, body: dict[str, Any]) -> Any:
        return self._call("order:post", self.answer, mutating=True)

    def _placed(self, request: OrderRequest, answer: Any) -> Order:
        return self._observe(answer)

    def _fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        found = self._call("order:get", self.lookup, client_order_id)
        return self._observe(found)

    def _arm_countdown(self, symbol: str, timeout_ms: int) -> None:
        self._call("countdown", self.answer, mutating=True)

    # the plain reads a venue also has: not used here
    def _unused(self, *args: Any) -> Any:
        raise AssertionError("not part of these tests")

    funding = book_top = is_dual_side = set_dual_side = margin_type = set_margin_type = _unused
    leverage = set_leverage = cancel_order = cancel_all = open_orders = positions = balance = _unused


def request(cid: str = "c1", **kw: Any) -> OrderRequest:
    base: dict[str, Any] = dict(
        venue=NAME,
        symbol="BTC",
        side=Side.BUY,
        position_side=PositionSide.LONG,
        order_type=OrderType.MARKET,
        quantity=D("0.01"),
        client_order_id=cid,
        intent_id=f"i-{cid}",
    )
    return OrderRequest(**(base | kw))


def order(cid: str = "c1", status: OrderStatus = OrderStatus.FILLED, filled: str = "0.01") -> Order:
    return Order(
        NAME,
        "BTC",
        cid,
        status,
        Side.BUY,
        PositionSide.LONG,
        OrderType.MARKET,
        D("0.01"),
        filled_qty=D(filled),
        avg_price=D(100),
        venue_order_id="7",
    )


def skew() -> ClockSkew:
    return ClockSkew(NAME, "SKEW", "Timestamp outside the window.")


# -- the call loop ---------------------------------------------------------------------------------
def test_first_signed_call_syncs_the_clock_and_unsigned_calls_do_not():
    v = ScriptedVenue(["a", "b"])
    assert v._call("public", v.answer, signed=False) == "a" and v.time_calls == 0
    assert v._call("signed", v.answer) == "b" and v.time_calls == 5 and v._clock_synced


def test_clock_skew_resyncs_and_retries_once(log_lines):
    v = ScriptedVenue([skew(), "ok"])
    v.server_ahead_ms = 3_000
    assert v._call("balance", v.answer) == "ok"
    assert v.calls == 2 and v.time_calls == 10  # first sync, then one resync
    assert abs(v.offset_used - 3_000) < 200
    assert "CLOCK scripted code=SKEW on balance" in log_lines.getvalue()
    v.script = [skew(), skew(), "never asked"]
    with pytest.raises(ClockSkew):
        v._call("balance", v.answer)
    assert v.calls == 4 and v.script == ["never asked"]  # one retry, not more


def test_a_clock_sample_is_stamped_after_the_throttlers_wait(monkeypatch):
    vc = VirtualClock()
    now = [1_700_000_000_000]

    def sleep(s: float) -> None:  # waiting moves the wall clock too
        vc.sleep(s)
        now[0] += int(s * 1000)

    thr = Throttler(NAME, [RateLimit("W", 1, 1.0)], {}, default_cost=(("W", 1),), clock=vc, sleep=sleep)
    monkeypatch.setattr(clock, "wall_ms", lambda: now[0])
    v = ScriptedVenue([], thr)
    v.server_ahead_ms = 500
    assert v.sync_clock() == 500  # every sample waited ~1 s for room, none of it counted as round trip
    assert thr.waited_s > 3.9  # 4 of the 5 samples waited a second each


def test_rate_limit_backs_off_for_the_venues_wait_then_refuses_locally(log_lines):
    vc = VirtualClock()
    v = ScriptedVenue([RateLimited(NAME, "429", "slow down", retry_after_s=7.0, venue_wait_s=7.0), "never"])
    v.throttle = throttler(vc)
    v._clock_synced = True
    with pytest.raises(RateLimited) as exc:
        v._call("positions", v.answer)
    assert exc.value.retry_after_s == 7.0 and v.throttle.blocked_until - vc() == pytest.approx(7.0, abs=0.1)
    assert "RATE_LIMIT scripted code=429: backing off 7.0s" in log_lines.getvalue()
    with pytest.raises(RateLimited) as local:
        v._call("balance", v.answer)
    assert local.value.code == "LOCAL" and v.calls == 1  # nothing reached the venue


def test_without_a_venue_wait_the_back_off_grows():
    vc = VirtualClock()
    limited = [RateLimited(NAME, "429", "slow down"), RateLimited(NAME, "429", "slow down")]
    v = ScriptedVenue(limited, throttler(vc, max_wait_s=60))
    v._clock_synced = True
    waits = []
    for _ in range(2):
        with pytest.raises(RateLimited) as exc:
            v._call("positions", v.answer)
        waits.append(exc.value.retry_after_s)
    assert waits == [1.0, 2.0]


def test_an_unknown_outcome_of_a_read_is_only_unavailable():
    lost = UnknownOutcome(NAME, "HTTP 502", "bad gateway")
    v = ScriptedVenue([lost, lost])
    v._clock_synced = True
    with pytest.raises(VenueUnavailable) as read:
        v._call("order:get", v.answer)
    assert (read.value.code, read.value.message) == ("HTTP 502", "bad gateway")
    with pytest.raises(UnknownOutcome):
        v._call("order:post", v.answer, mutating=True)


@pytest.mark.parametrize(
    "mutating,timed_out,arrived,raised,code",
    [
        (True, True, True, UnknownOutcome, "TIMEOUT"),
        (True, False, True, UnknownOutcome, "DISCONNECTED"),
        (True, True, False, VenueUnavailable, "TIMEOUT"),  # never connected: nothing can have happened
        (False, True, True, VenueUnavailable, "TIMEOUT"),  # a read changes nothing
    ],
)
def test_lost_requests(mutating, timed_out, arrived, raised, code):
    v = ScriptedVenue([NetworkError(timed_out, arrived)])
    v._clock_synced = True
    with pytest.raises(raised) as exc:
        v._call("order:post", v.answer, mutating=mutating)
    assert type(exc.value) is raised and exc.value.code == code
    assert exc.value.message.startswith("order:post: NetworkError")


def test_library_errors_are_classified_and_foreign_exceptions_propagate():
    v = ScriptedVenue([LibraryError(InsufficientMargin(NAME, "M", "no margin")), KeyError("a bug")])
    v._clock_synced = True
    with pytest.raises(InsufficientMargin):
        v._call("order:post", v.answer, mutating=True)
    with pytest.raises(KeyError):
        v._call("order:post", v.answer, mutating=True)


# -- orders ----------------------------------------------------------------------------------------
def test_an_unknown_outcome_is_reconciled_by_client_id_never_resent(log_lines):
    v = ScriptedVenue([UnknownOutcome(NAME, "TIMEOUT", "order:post: ReadTimeout")])
    v._clock_synced = True
    v.known["c1"] = order("c1")
    placed = v.place_order(request("c1"))
    assert placed.status is OrderStatus.FILLED and v.calls == 1 and v.lookups == 1
    assert [f.client_order_id for f in v.drain_fills()] == ["c1"]
    assert (
        "[ORDER_ERR] code=TIMEOUT scripted BTC cid=c1" in log_lines.getvalue() and "RECONCILED" in log_lines.getvalue()
    )


class GarbledVenue(ScriptedVenue):
    """Accepts the order, then answers something that does not read as an order."""

    def _placed(self, request: OrderRequest, answer: Any) -> Order:
        raise MalformedAnswer(NAME, "order.status", "is not text (got a list of 2)")


def test_an_accepted_order_whose_answer_does_not_read_is_reconciled_not_rejected():
    v = GarbledVenue([{"status": ["FILLED", 1]}])
    v._clock_synced = True
    v.known["c9"] = order("c9")
    placed = v.place_order(request("c9"))
    assert placed.status is OrderStatus.FILLED and v.calls == 1 and v.lookups == 1
    unknown = GarbledVenue([{}])  # and when the venue does not know it either: in flight, never "rejected"
    unknown._clock_synced = True
    with pytest.raises(UnknownOutcome) as exc:
        unknown.place_order(request("c10"))
    assert "order.status" in exc.value.message and unknown.calls == 1 and unknown.lookups == 2


def test_an_order_the_venue_never_got_stays_unknown():
    v = ScriptedVenue([UnknownOutcome(NAME, "TIMEOUT", "lost")])
    v._clock_synced = True
    with pytest.raises(UnknownOutcome) as exc:
        v.place_order(request("c2"))
    assert "not found by client order id after 2 queries" in exc.value.message
    assert v.calls == 1 and v.lookups == 2 and v.slept == [0.5]


def test_a_duplicate_client_id_reports_the_order_that_exists():
    v = ScriptedVenue([BadRequest(NAME, "DUP", "Duplicated client order id")])
    v._clock_synced = True
    v.known["c3"] = order("c3", OrderStatus.NEW, "0")
    assert v.place_order(request("c3")).venue_order_id == "7" and v.calls == 1


def test_a_crossing_post_only_order_is_expired_and_other_rejections_raise():
    v = ScriptedVenue([BadRequest(NAME, "CROSS", "would match"), BadRequest(NAME, "OTHER", "no")])
    v._clock_synced = True
    post_only = request("c4", order_type=OrderType.LIMIT, price=D(99), time_in_force=TimeInForce.POST_ONLY)
    crossed = v.place_order(post_only)
    assert (crossed.status, crossed.reject_code, crossed.filled_qty) == (OrderStatus.EXPIRED, "CROSS", 0)
    with pytest.raises(BadRequest):
        v.place_order(request("c5"))


def test_resting_orders_fill_as_maker_immediate_ones_as_taker():
    resting = order("c6", OrderStatus.NEW, "0")
    v = ScriptedVenue([resting])
    v._clock_synced = True
    v.place_order(request("c6", order_type=OrderType.LIMIT, price=D(100), time_in_force=TimeInForce.GTC))
    v.known["c6"] = order("c6")
    v.get_order("BTC", "c6")
    (fill,) = v.drain_fills()
    assert fill.liquidity == "maker" and fill.fee_usdt == D("0.01") * D(100) * D("0.0002")  # config fees


def test_safe_mode_sends_nothing():
    v = ScriptedVenue(["never"], safe_mode=True)
    with pytest.raises(SafeModeRefused):
        v.place_order(request("c7"))
    assert v.calls == 0


def test_position_fields_hedge_unless_known_one_way():
    v = ScriptedVenue([])
    close = request(side=Side.SELL)
    assert v._position_fields(close) == (PositionSide.LONG, False)  # hedge mode (or not known yet)
    v._dual_side = False
    assert v._position_fields(close) == (None, True)
    assert v._position_fields(request()) == (None, False)
    assert v._position_fields(request(reduce_only=True)) == (None, True)


def test_countdown_refuses_a_negative_timeout_without_calling():
    v = ScriptedVenue(["armed"])
    v._clock_synced = True
    with pytest.raises(ValueError):
        v.arm_cancel_all_after("BTC", -1)
    assert v.calls == 0 and v.arm_cancel_all_after("BTC", 0) is True and v.calls == 1


def test_fees_fall_back_to_the_configured_rates(log_lines):
    v = ScriptedVenue([])
    assert v.fees("BTC") == FeeSchedule(D("0.0002"), D("0.0004"))
    assert "scripted BTC fee rates unavailable (X); using config fees" in log_lines.getvalue()


# -- error helpers ---------------------------------------------------------------------------------
def test_a_code_listed_under_two_meanings_is_refused():
    assert code_table({AuthError: {1, 2}, BadRequest: {3}}) == {1: AuthError, 2: AuthError, 3: BadRequest}
    with pytest.raises(ValueError, match="2"):
        code_table({AuthError: {1, 2}, BadRequest: {2}})


@pytest.mark.parametrize(
    "status,refused,raised",
    [
        (500, False, UnknownOutcome),
        (503, True, VenueUnavailable),
        (401, False, AuthError),
        (403, True, AuthError),
        (404, False, BadRequest),
    ],
)
def test_http_errors_without_a_venue_code(status, refused, raised):
    err = http_error(NAME, status, "text", refused=refused)
    assert type(err) is raised and err.code == f"HTTP {status}"


def test_a_listed_symbol_whose_rules_did_not_read_is_named_as_such_not_unknown(log_lines):
    v = ScriptedVenue([])
    v._fetch_filters = lambda: Listing({}, skipped={"ODDUSDT": "exchangeInfo ODDUSDT.tickSize: must be > 0"})  # type: ignore[method-assign]
    with pytest.raises(MalformedAnswer, match=r"filters of ODDUSDT.*tickSize: must be > 0"):
        v.filters("ODDUSDT")
    assert "1 instrument(s) did not read and are left out (first: ODDUSDT" in log_lines.getvalue()
    with pytest.raises(VenueError) as unknown:
        v.filters("NOSUCHUSDT")
    assert not isinstance(unknown.value, MalformedAnswer)  # never listed: the venue's "unknown symbol"
