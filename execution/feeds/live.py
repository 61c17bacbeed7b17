"""Live market data from Binance USD-M and OKX public websockets, as feed events.

One thread per connection (Binance combined stream; OKX public and business endpoints) pushes
events into one queue; `LiveFeed.events()` yields them, and a `Tick` when nothing arrived for a
second so the loop keeps doing its periodic work. At start and after every reconnect the 15m
candles the indicators need are backfilled over REST before live candles flow, so a gap is
filled before the screener uses the symbol again.

Staleness: a symbol whose book has been silent longer than `stale_after_ms` produces one
`FeedIssue(kind="stale")` (no new risk on it; exits still allowed) and, when data flows again,
one `FeedIssue(kind="recovered")`. Every configured symbol is expected from the start: one that
never produced data is stale `stale_after_ms` after start (a feed that never connects must not
leave the mode at RUN with no data at all). A dropped connection is reconnected with exponential
back-off and jitter. Funding: when a venue's next funding time moves on, the settlement that
just happened is emitted as `FundingSettled` (the paper venue exchanges it on open positions).
Clock: every venue's offset is measured from several REST samples; a skew beyond the bound is
`FeedIssue(kind="clock_skew")`, which trips the clock-skew breaker.

Account fills come from the private streams (execution/feeds/account_stream.py); REST stays the
source of truth for orders and positions.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import requests

from execution import clock, logs
from execution.exchanges.clock_sync import ClockOffset
from execution.exchanges.http_deadline import mount_deadline
from execution.feeds import rest_history
from execution.feeds.base import Feed
from execution.feeds.events import CandleClosed, Event, FeedIssue, FundingSettled, MarkUpdate, Tick
from execution.feeds.stream_parsers import (
    BAR_MS,
    binance_streams,
    okx_business_args,
    okx_public_args,
    parse_binance,
    parse_okx,
)
from execution.settings import EndpointsEnv, LiveFeedEnv

BINANCE_WS = "wss://fstream.binance.com"
OKX_WS_PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
OKX_WS_BUSINESS = "wss://ws.okx.com:8443/ws/v5/business"
OKX_MAX_ARGS_PER_SUBSCRIBE = 100  # well under OKX's per-connection subscription limits
CLOCK_SLACK_MS = 60_000  # a venue clock ahead of ours by up to this is not a bar from the future
REST_DEADLINE_S = 15.0  # the whole answer of a backfill or clock call (their per-read timeouts: 15 and 5 s)


def candle_time_problem(open_time: int, now_ms: int) -> str | None:
    """Why a 15m candle's open time cannot be real, or None: off the 15-minute grid, or opening
    after now (plus a minute of clock difference). Checked before the candle can become the
    symbol's last one: a bar stamped in year 9999 would make every real bar after it look old."""
    if open_time % BAR_MS:
        return f"candle open time {open_time} is not on the 15-minute grid"
    if open_time > now_ms + CLOCK_SLACK_MS:
        return f"candle open time {open_time} is after now ({now_ms})"
    return None


@dataclass
class LiveConfig:
    symbols: dict[str, list[str]]  # venue -> venue symbols
    binance_rest: str = rest_history.BINANCE_URL
    binance_ws: str = BINANCE_WS
    okx_rest: str = rest_history.OKX_URL
    okx_ws_public: str = OKX_WS_PUBLIC
    okx_ws_business: str = OKX_WS_BUSINESS
    stale_after_ms: int = 30_000
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0
    backfill_bars: int = 200
    tick_ms: int = 1_000
    clock_check_ms: int = 300_000
    max_clock_skew_ms: int = 1_000
    ping_s: float = 20.0
    okx_ct_vals: dict[str, float] = field(default_factory=dict)  # instId -> ctVal (configured; the venue's win)

    @classmethod
    def from_settings(
        cls,
        live: LiveFeedEnv,
        endpoints: EndpointsEnv,
        symbols: dict[str, list[str]],
        backfill_bars: int,
        max_clock_skew_ms: int,
        contract_values: Mapping[str, Decimal] | None = None,
    ) -> LiveConfig:
        """The feed's configuration from its groups; unset endpoints are the venues' production ones.
        `contract_values`: OKX ctVal per instId from config/venue_filters.json, used when the venue's
        instruments answer cannot be read at start."""
        return cls(
            symbols=symbols,
            binance_rest=rest_history.binance_host(endpoints.binance_rest or rest_history.BINANCE_URL),
            binance_ws=(endpoints.binance_ws or BINANCE_WS).rstrip("/"),
            okx_rest=(endpoints.okx_rest or rest_history.OKX_URL).rstrip("/"),
            okx_ws_public=endpoints.okx_ws_public or OKX_WS_PUBLIC,
            okx_ws_business=endpoints.okx_ws_business or OKX_WS_BUSINESS,
            stale_after_ms=int(live.stale_s * 1000),
            backoff_max_s=live.backoff_max_s,
            backfill_bars=backfill_bars,
            max_clock_skew_ms=max_clock_skew_ms,
            okx_ct_vals={k: float(v) for k, v in (contract_values or {}).items()},
        )


class Staleness:
    """Per-key silence tracking. Pure: told when data arrives and what time it is."""

    def __init__(self, stale_after_ms: int):
        self.stale_after_ms = stale_after_ms
        self.last: dict[tuple[str, str], int] = {}
        self.stale: set[tuple[str, str]] = set()
        self.never_seen: set[tuple[str, str]] = set()

    def expect(self, keys: list[tuple[str, str]], now: int) -> None:
        """Keys that must produce data: silent since `now` until their first message."""
        for key in keys:
            if key not in self.last:
                self.last[key] = now
                self.never_seen.add(key)

    def seen(self, key: tuple[str, str], now: int) -> bool:
        """Returns True when this message ends a stale period (a recovery)."""
        self.last[key] = now
        self.never_seen.discard(key)
        if key in self.stale:
            self.stale.discard(key)
            return True
        return False

    def newly_stale(self, now: int) -> list[tuple[str, str, int]]:
        out = []
        for key, last in self.last.items():
            if key not in self.stale and now - last > self.stale_after_ms:
                self.stale.add(key)
                out.append((key[0], key[1], now - last))
        return out


@dataclass
class _FundingClock:
    next_ms: int = 0
    rate: float | None = None


@dataclass
class _Conn:
    name: str
    venue: str
    url: str
    subscribe: Callable[[object], None]
    parse: Callable[[dict, int], list[Event]]
    symbols: list[str]
    candles: bool
    keepalive: Callable[[object], None] | None = None
    reconnects: int = 0
    connected: bool = False
    extra: dict = field(default_factory=dict)


class LiveFeed(Feed):
    def __init__(
        self, cfg: LiveConfig, wall_ms: Callable[[], int] = clock.wall_ms, session: requests.Session | None = None
    ):
        self.cfg = cfg
        self.wall = wall_ms
        if session is None:
            session = requests.Session()
            mount_deadline(session, REST_DEADLINE_S)  # a dribbling answer cannot hold the feed's thread
        self.session = session
        self.log = logs.get()
        self.q: queue.Queue[Event] = queue.Queue(maxsize=100_000)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.staleness = Staleness(cfg.stale_after_ms)
        self.last_candle: dict[tuple[str, str], int] = {}  # open time of the last candle emitted
        self.funding: dict[tuple[str, str], _FundingClock] = {}
        self.offsets = {v: ClockOffset() for v in cfg.symbols}
        self._threads: list[threading.Thread] = []
        self.ct_vals: dict[str, float] = dict(cfg.okx_ct_vals)
        self.issue_counts: Counter[str] = Counter()  # feed issues raised by this feed, by kind
        self.conns = self._connections()
        self._last_clock_check = 0

    # -- connections -------------------------------------------------------------------------------
    def _connections(self) -> list[_Conn]:
        out = []
        binance = self.cfg.symbols.get("binance_um") or []
        if binance:
            url = f"{self.cfg.binance_ws}/stream?streams=" + "/".join(binance_streams(binance))
            out.append(_Conn("binance", "binance_um", url, lambda ws: None, parse_binance, binance, True))
        okx = self.cfg.symbols.get("okx_perp") or []
        if okx:

            def subscriber(args):
                def sub(ws):
                    for i in range(0, len(args), OKX_MAX_ARGS_PER_SUBSCRIBE):
                        ws.send(json.dumps({"op": "subscribe", "args": args[i : i + OKX_MAX_ARGS_PER_SUBSCRIBE]}))

                return sub

            ping = lambda ws: ws.send("ping")  # noqa: E731 - OKX closes a connection silent for 30 s
            parse = lambda msg, now: parse_okx(msg, now, self.ct_vals)  # noqa: E731 - sizes: contracts -> base
            out.append(
                _Conn(
                    "okx-public",
                    "okx_perp",
                    self.cfg.okx_ws_public,
                    subscriber(okx_public_args(okx)),
                    parse,
                    okx,
                    False,
                    ping,
                )
            )
            out.append(
                _Conn(
                    "okx-business",
                    "okx_perp",
                    self.cfg.okx_ws_business,
                    subscriber(okx_business_args(okx)),
                    parse,
                    okx,
                    True,
                    ping,
                )
            )
        return out

    def start(self) -> None:
        with self._lock:
            self.staleness.expect([(v, s) for v, syms in self.cfg.symbols.items() for s in syms], self.wall())
        for venue in self.cfg.symbols:
            self._check_clock(venue)
        if self.cfg.symbols.get("okx_perp"):
            self._load_contract_values(self.cfg.symbols["okx_perp"])
        for conn in self.conns:
            t = threading.Thread(target=self._run_conn, args=(conn,), name=f"feed-{conn.name}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._watch, name="feed-watch", daemon=True)
        t.start()
        self._threads.append(t)

    def events(self) -> Iterator[Event]:
        if not self._threads:
            self.start()
        tick_s = self.cfg.tick_ms / 1000
        while not self._stop.is_set():
            try:
                yield self.q.get(timeout=tick_s)
            except queue.Empty:
                yield Tick(self.wall())

    def close(self) -> None:
        self._stop.set()

    # -- one connection ----------------------------------------------------------------------------
    def _run_conn(self, conn: _Conn) -> None:
        from websockets.sync.client import connect

        backoff = self.cfg.backoff_min_s
        while not self._stop.is_set():
            try:
                if conn.candles:
                    self._backfill(conn)
                with connect(
                    conn.url,
                    open_timeout=10,
                    close_timeout=2,
                    ping_interval=self.cfg.ping_s,
                    max_size=2**22,
                    proxy=None,
                ) as ws:
                    conn.subscribe(ws)
                    if conn.reconnects:
                        self.log.info("[feed] %s reconnected (attempt %d)", conn.name, conn.reconnects)
                    conn.connected, backoff = True, self.cfg.backoff_min_s
                    last_ping = time.monotonic()
                    while not self._stop.is_set():
                        try:
                            raw = ws.recv(timeout=1.0)
                        except TimeoutError:
                            raw = None
                        if conn.keepalive and time.monotonic() - last_ping > self.cfg.ping_s:
                            conn.keepalive(ws)
                            last_ping = time.monotonic()
                        if raw is None or raw == "pong":
                            continue
                        self._on_message(conn, raw)
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect with back-off
                if self._stop.is_set():
                    return
                conn.connected = False
                conn.reconnects += 1
                wait = min(backoff, self.cfg.backoff_max_s) * (0.5 + random.random())
                self.log.warning(
                    "[feed] %s disconnected (%s); reconnecting in %.1fs",
                    conn.name,
                    logs.redact(f"{exc.__class__.__name__}: {exc}")[:160],
                    wait,
                )
                self._stop.wait(wait)
                backoff = min(backoff * 2, self.cfg.backoff_max_s)

    def _load_contract_values(self, symbols: list[str]) -> None:
        """OKX ctVal per instrument from the venue's public instruments answer (the configured
        values stay for any instrument it does not answer)."""
        try:
            found = rest_history.okx_contract_values(self.session, self.cfg.okx_rest)
        except Exception as exc:  # noqa: BLE001 - the configured values still convert the sizes
            self.log.warning(
                "[feed] okx_perp contract values not read (%s): using config/venue_filters.json",
                exc.__class__.__name__,
            )
            return
        for inst in symbols:
            venue_ct = found.get(inst)
            if venue_ct is None:
                continue
            configured = self.ct_vals.get(inst)
            if configured is not None and configured != venue_ct:
                self.log.warning(
                    "[feed] okx_perp %s ctVal %s (configured %s): the venue's wins", inst, venue_ct, configured
                )
            self.ct_vals[inst] = venue_ct

    def _issue(self, issue: FeedIssue) -> None:
        self.issue_counts[issue.kind] += 1
        self.q.put(issue)

    def _on_message(self, conn: _Conn, raw: str | bytes) -> None:
        """One frame: a bad one is a counted parse error and the connection stays up."""
        now = self.wall()
        try:
            events = conn.parse(json.loads(raw), now)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
            # RecursionError: a frame nested deeper than the JSON parser goes
            self._issue(FeedIssue(now, conn.venue, "", "parse_error", f"{conn.name}: {str(exc)[:300]}"))
            return
        for ev in events:
            if isinstance(ev, FeedIssue):
                self._issue(ev)
                continue
            key = (ev.venue, ev.symbol)
            if isinstance(ev, CandleClosed):
                problem = candle_time_problem(ev.open_time, now)
                if problem:
                    self._issue(FeedIssue(now, ev.venue, ev.symbol, "bad_value", f"{conn.name}: {problem}"))
                    continue
                with self._lock:
                    if ev.open_time <= self.last_candle.get(key, -1):
                        continue
                    self.last_candle[key] = ev.open_time
            elif isinstance(ev, MarkUpdate):
                self._funding(ev)
            with self._lock:
                recovered = self.staleness.seen(key, now) if not isinstance(ev, CandleClosed) else False
            if recovered:
                self.q.put(FeedIssue(now, ev.venue, ev.symbol, "recovered", "data flowing again"))
            self.q.put(ev)

    def _funding(self, ev: MarkUpdate) -> None:
        key = (ev.venue, ev.symbol)
        fc = self.funding.setdefault(key, _FundingClock())
        if ev.funding_rate is not None:
            if ev.next_funding_ms and fc.next_ms and ev.next_funding_ms > fc.next_ms and fc.rate is not None:
                self.q.put(FundingSettled(fc.next_ms, ev.venue, ev.symbol, fc.rate))  # that window just settled
            fc.rate = ev.funding_rate
            if ev.next_funding_ms:
                fc.next_ms = ev.next_funding_ms

    def _backfill(self, conn: _Conn) -> None:
        """Closed candles from the last one we emitted (or the indicator window) up to now."""
        now = self.wall()
        for symbol in conn.symbols:
            key = (conn.venue, symbol)
            with self._lock:
                last = self.last_candle.get(key)
            start = (last + BAR_MS) if last is not None else (now - now % BAR_MS - self.cfg.backfill_bars * BAR_MS)
            end = now - now % BAR_MS  # only bars that have closed
            if start >= end:
                continue
            try:
                if conn.venue == "binance_um":
                    rows = rest_history.binance_candles(self.session, self.cfg.binance_rest, symbol, start, end)
                else:
                    rows = rest_history.okx_candles(self.session, self.cfg.okx_rest, symbol, start, end)
            except rest_history.DownloadError as exc:
                if not exc.refused:
                    raise  # the network: reconnect and backfill everything again
                # the venue refuses this symbol (e.g. a DEPEG_REFERENCE it does not list): the others go on
                self.log.warning("[feed] %s %s candles not backfilled: %s", conn.venue, symbol, str(exc)[:200])
                continue
            emitted = 0
            for t, o, h, low, c, v in rows:
                t = int(t)
                problem = candle_time_problem(t, now)
                if problem:
                    self._issue(FeedIssue(now, conn.venue, symbol, "bad_value", f"backfill: {problem}"))
                    continue
                with self._lock:
                    if t <= self.last_candle.get(key, -1):
                        continue
                    self.last_candle[key] = t
                self.q.put(
                    CandleClosed(t + BAR_MS, conn.venue, symbol, t, float(o), float(h), float(low), float(c), float(v))
                )
                emitted += 1
            if last is not None and emitted:
                self.log.info("[feed] %s %s gap backfilled over REST: %d candle(s)", conn.venue, symbol, emitted)

    # -- watchdog: staleness and clock -------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stop.wait(min(1.0, self.cfg.stale_after_ms / 4000)):
            now = self.wall()
            with self._lock:
                stale = self.staleness.newly_stale(now)
                never = {(v, sym) for v, sym, _ in stale if (v, sym) in self.staleness.never_seen}
            for venue, symbol, silent in stale:
                since = " since start (never received)" if (venue, symbol) in never else ""
                self.q.put(FeedIssue(now, venue, symbol, "stale", f"no data for {silent / 1000:.1f}s{since}"))
            if now - self._last_clock_check >= self.cfg.clock_check_ms:
                for venue in self.cfg.symbols:
                    self._check_clock(venue)

    def _check_clock(self, venue: str) -> None:
        self._last_clock_check = self.wall()

        def sample() -> tuple[float, float, float]:
            t0 = float(self.wall())  # the feed's one clock: the offset is measured against what it stamps
            if venue == "binance_um":
                server = float(
                    self.session.get(f"{self.cfg.binance_rest}/fapi/v1/time", timeout=5).json()["serverTime"]
                )
            else:
                server = float(
                    self.session.get(f"{self.cfg.okx_rest}/api/v5/public/time", timeout=5).json()["data"][0]["ts"]
                )
            return t0, server, float(self.wall())

        try:
            offset = self.offsets[venue].resync(sample, n=5)
        except Exception as exc:  # noqa: BLE001 - a clock sample failing is not a reason to stop
            self.log.warning("[feed] %s clock not measured: %s", venue, exc.__class__.__name__)
            return
        self.log.info("[feed] %s clock offset %+.0f ms (rtt %.0f ms)", venue, offset, self.offsets[venue].rtt_ms)
        if abs(offset) > self.cfg.max_clock_skew_ms:
            self.q.put(
                FeedIssue(
                    self.wall(), venue, "", "clock_skew", f"offset {offset:+.0f} ms > {self.cfg.max_clock_skew_ms} ms"
                )
            )
