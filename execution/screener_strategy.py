"""The screener strategy: z-score / RSI / ATR readings on closed candles -> entries with SL/TP.

    candle -> indicators (SymbolScreener) -> SL/TP / max-hold exits of the open trade
           -> reading -> decision (vetoes) -> sizing (execution/sizing.py: fixed or ATR risk
              parity) -> venue filters -> risk gate -> ctx.submit (guards)

It owns its trades (one per symbol, with its levels), cooldowns, the bad-data recovery count,
the screener tail, the latest signals and the per-symbol leaderboard. It is the residual owner
of positions: what no other strategy owns (e.g. a position found at reconciliation) it closes
on flatten. With a `Protection` (execution/protection.py) every trade's stop-loss and
take-profit also rest on the venue: each fill of a trade tells it the trade's quantity, and
the fills of those orders come back here through it; the checks on closes stay as the second
line of defence.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal

from execution import ids, logs
from execution.decision import Decision, candidate_signal, decide
from execution.feeds.events import CandleClosed, FeedIssue
from execution.filters import round_qty
from execution.ledger import Ledger
from execution.models import Fill, Intent, OrderType, PositionSide
from execution.protection import Protection
from execution.risk import ExposureView, entry_rejections
from execution.rules_sl_tp import Levels, exit_reason, levels
from execution.screener import Reading, SymbolScreener, screener_line
from execution.settings import Settings
from execution.sizing import risk_at_stop, sizer_for
from execution.state.store import StateSink
from execution.strategy import BaseStrategy, PositionKey, StrategyContext, SymbolKey
from execution.trades import InFlight, OpenTrade

NAME = "screener"
RECOVERY_BARS = 2  # good candles needed after bad data before a symbol may open risk again
SCREENER_TAIL = 10
SIGNALS_KEPT = 20
SNAPSHOT_KEYS = ("trades", "cooldown", "bad_data", "leaderboard", "signals_tail")


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


class ScreenerStrategy(BaseStrategy):
    name = NAME

    def __init__(self, settings: Settings, universe: Iterable[SymbolKey], protection: Protection | None = None):
        self.s = settings
        self.protection = protection
        self.log = logs.get()
        self.screeners: dict[SymbolKey, SymbolScreener] = {
            (venue, symbol): SymbolScreener(venue, symbol, settings.symbol_config(symbol, venue).strategy)
            for venue, symbol in universe
        }
        self._universe = frozenset(self.screeners)
        self.trades: dict[SymbolKey, OpenTrade] = {}
        self.cooldown: dict[SymbolKey, int] = {}
        self.bad_data: dict[SymbolKey, int] = {}
        self.screener_tail: list[tuple[Reading, bool, str]] = []
        self.signals_tail: list[dict] = []
        self.leaderboard: dict[str, dict] = {}
        self.cycle_attempted = 0
        self.cycle_emitted = 0
        self.last_cycle = {"ts": 0, "attempted": 0, "emitted": 0}

    @property
    def universe(self) -> frozenset[SymbolKey]:
        return self._universe

    # ------------------------------------------------------------------------------------------
    # market events
    def on_candle(self, c: CandleClosed, ctx: StrategyContext, trading: bool) -> None:
        key = (c.venue, c.symbol)
        screener = self.screeners.get(key)
        if screener is None:
            return  # a series we mark to market but do not screen (e.g. OKX for arbitrage)
        bad_left = self.bad_data.get(key, 0)
        if bad_left:
            self.bad_data[key] = bad_left - 1
            if bad_left == 1:
                self.log.info(
                    "[feed] %s %s recovered: %d good candle(s) since bad data", c.venue, c.symbol, RECOVERY_BARS
                )
        reading = screener.update(c)
        if not trading:
            return
        trade = self.trades.get(key)
        if trade is not None:
            trade.bars_held += 1
            self._check_exit(trade, c, ctx)
        if self.cooldown.get(key):
            self.cooldown[key] -= 1
        if reading is not None:
            self._on_reading(reading, screener, trade, ctx)

    def on_feed_issue(self, i: FeedIssue, ctx: StrategyContext) -> None:
        """Bad data: no new risk on the symbol until RECOVERY_BARS good candles; a gap re-warms."""
        key = (i.venue, i.symbol)
        if key in self.screeners and i.kind != "duplicate":
            self.bad_data[key] = RECOVERY_BARS
            if i.reset:
                self.screeners[key].reset()

    def on_cycle_end(self, ts: int, ctx: StrategyContext, trading: bool) -> None:
        if self.cycle_attempted:
            if self.cycle_emitted:  # a quiet cycle is a DEBUG line: a replay has ~17,000 of them per half-year
                self.log.info("[screener] attempted=%d emitted=%d", self.cycle_attempted, self.cycle_emitted)
            elif self.log.isEnabledFor(logging.DEBUG):
                self.log.debug("[screener] attempted=%d emitted=%d", self.cycle_attempted, 0)
            self.last_cycle = {"ts": ts, "attempted": self.cycle_attempted, "emitted": self.cycle_emitted}
        self.cycle_attempted = self.cycle_emitted = 0

    # ------------------------------------------------------------------------------------------
    # entries
    def _on_reading(self, r: Reading, screener: SymbolScreener, trade: OpenTrade | None, ctx: StrategyContext) -> None:
        key = (r.venue, r.symbol)
        in_trade = trade is not None or ctx.working_on(r.venue, r.symbol)
        side = trade.position_side.value if trade else "-"
        self.cycle_attempted += 1
        crossed = r.cross_up or r.cross_down
        if crossed or screener.readings == 1:  # something happened: a cross, or the symbol is warm
            self.log.info(screener_line(r, in_trade, side))
        elif self.log.isEnabledFor(logging.DEBUG):  # every reading at DEBUG; the line is built only then
            self.log.debug(screener_line(r, in_trade, side))
        tail = self.screener_tail
        tail.append((r, in_trade, side))
        if len(tail) > 4 * SCREENER_TAIL:
            del tail[:-SCREENER_TAIL]
        if not crossed:
            return  # no threshold cross, no candidate (decision.candidate_signal)
        params = screener.params
        if candidate_signal(r, params) is None:
            return
        ledger = ctx.ledger
        d = decide(
            r,
            params,
            in_trade=in_trade,
            open_positions=len(ledger.positions),
            max_positions=self.s.risk.max_positions,
            cooldown_left=self.cooldown.get(key, 0),
            symbol_ok=not self.bad_data.get(key, 0) and not ctx.is_stale(key),
            hold_reason=ctx.control.reason if ctx.control.holding else None,
        )
        price = _dec(r.close)
        cfg = self.s.symbol_config(r.symbol, r.venue)
        sizer = sizer_for(params)
        view = _exposure(ledger, r.symbol) if sizer.needs_exposure else None
        size = sizer.size(params, self.s.risk, price, r.atr, view)
        filters = ctx.venues[r.venue].filters(r.symbol)
        qty = round_qty(size.notional / price, filters, OrderType.MARKET)
        notional = qty * price
        if qty <= 0:
            d.veto.append(
                f"size_rounds_to_zero(step {filters.step_size}{', ' + size.capped_by if size.capped_by else ''})"
            )
        if cfg.min_notional is not None and qty > 0 and notional < cfg.min_notional:
            d.veto.append(f"below_config_min_notional({notional:.2f}<{cfg.min_notional})")
        if not d.veto:
            view = view or _exposure(ledger, r.symbol)
            d.veto.extend(f"risk:{x}" for x in entry_rejections(self.s.risk, view, notional))
        self.log.info("[decision] %s", json.dumps(_decision_doc(d, r, qty, notional), separators=(",", ":")))
        if not d.go:
            return
        pside = d.position_side
        assert d.candidate is not None and pside is not None  # d.go
        lv = levels(pside, r.close, r.atr, params.sl_atr, params.tp_atr)
        risk_usdt = risk_at_stop(qty, r.atr, params.sl_atr)  # what this entry loses at its stop
        nav = view.nav if view is not None else ledger.nav()
        intent = Intent(
            intent_id=ids.intent_id(r.venue, r.symbol, r.ts, "entry"),
            ts=r.ts,
            venue=r.venue,
            symbol=r.symbol,
            side=d.candidate,
            position_side=pside,
            reason="entry",
            quantity=qty,
            ref_price=price,
            meta={"stop_loss": lv.stop_loss, "take_profit": lv.take_profit, "z": r.z, "rsi": r.rsi, "atr": r.atr},
        )
        signal = {
            "id": intent.intent_id,
            "ts": r.ts,
            "venue": r.venue,
            "symbol": r.symbol,
            "signal": d.candidate.value,
            "position_side": pside.value,
            "intent_id": intent.intent_id,
            "price": r.close,
            "qty": str(qty),
            "notional_usdt": round(float(notional), 2),
            "z": round(r.z, 4),
            "rsi": round(r.rsi, 2),
            "atr": r.atr,
            "stop_loss": lv.stop_loss,
            "take_profit": lv.take_profit,
            "leverage": params.leverage,
            "sizer": sizer.name,
            "risk_usdt": round(float(risk_usdt), 4),
            "risk_pct_nav": round(float(risk_usdt / nav * 100), 6) if nav > 0 else None,
        }
        if size.capped_by:
            signal["capped_by"] = size.capped_by
        self.log.info("[screener->executor] %s", json.dumps(signal, separators=(",", ":")))
        self.cycle_emitted += 1
        ctx.journal("signals", signal)
        self.signals_tail.append(signal)
        del self.signals_tail[:-SIGNALS_KEPT]
        ctx.submit(intent, purpose="entry", owner=NAME, leverage=params.leverage)

    # ------------------------------------------------------------------------------------------
    # exits
    def _check_exit(self, trade: OpenTrade, c: CandleClosed, ctx: StrategyContext) -> None:
        if trade.exit_pending or trade.levels is None:
            return
        params = self.s.symbol_config(c.symbol, c.venue).strategy
        reason = exit_reason(trade.position_side, trade.levels, c.close, trade.bars_held, params.max_hold_bars)
        if reason is not None:
            self.close_position(c.venue, c.symbol, trade.position_side, reason, c.ts, ctx)

    def close_position(
        self, venue: str, symbol: str, pside: PositionSide, reason: str, ts: int, ctx: StrategyContext
    ) -> None:
        """Close what this strategy holds on one side (another strategy's part stays)."""
        qty = ctx.held_by(NAME, venue, symbol, pside)
        if qty <= 0:
            return
        mark = ctx.ledger.marks.get((venue, symbol), Decimal(0))
        intent = Intent.closing(venue, symbol, pside, qty, ts, reason, reason, mark)
        cid = ctx.submit(intent, purpose=reason, owner=NAME)
        trade = self.trades.get((venue, symbol))
        if cid and trade is not None and trade.position_side is pside:
            trade.exit_pending = cid

    def flatten(self, ts: int, reason: str, ctx: StrategyContext) -> None:
        for venue, symbol, pside in list(ctx.ledger.positions):
            trade = self.trades.get((venue, symbol))
            if trade is not None and trade.exit_pending:
                continue
            self.close_position(venue, symbol, pside, "flatten", ts, ctx)

    # ------------------------------------------------------------------------------------------
    # fills
    def on_fill(self, fill: Fill, booked: Fill, flight: InFlight | None, ctx: StrategyContext) -> None:
        key = (fill.venue, fill.symbol)
        held = ctx.held_by(NAME, fill.venue, fill.symbol, fill.position_side)
        if fill.side is fill.position_side.opening_side:
            if key not in self.trades and flight is not None and flight.meta.get("stop_loss") is not None:
                lv = Levels(flight.meta["stop_loss"], flight.meta["take_profit"])
                self.trades[key] = OpenTrade(fill.venue, fill.symbol, fill.position_side, fill.intent_id, fill.ts, lv)
        elif held == 0:
            trade = self.trades.get(key)
            if trade is not None and trade.position_side is fill.position_side:
                del self.trades[key]
                self.cooldown[key] = self.s.symbol_config(fill.symbol, fill.venue).strategy.cooldown_bars
            self._score(fill.symbol, booked.realized_pnl_usdt - booked.fee_usdt)
        self._protect(fill.venue, fill.symbol, fill.position_side, fill.ts, ctx)

    def _protect(self, venue: str, symbol: str, pside: PositionSide, ts: int, ctx: StrategyContext) -> None:
        """Tell the protection what this trade holds now (nothing: its orders are cancelled)."""
        if self.protection is None:
            return
        trade = self.trades.get((venue, symbol))
        if trade is None or trade.position_side is not pside or trade.levels is None:
            self.protection.sync(venue, symbol, pside, Decimal(0), None, "", ts, ctx)
            return
        held = ctx.held_by(NAME, venue, symbol, pside)
        levels = (trade.levels.stop_loss, trade.levels.take_profit)
        self.protection.sync(venue, symbol, pside, held, levels, trade.intent_id, ts, ctx)

    def protected_legs(self) -> list[tuple[str, str, PositionSide, float, float, str]]:
        """Every trade with levels: what the stop validator checks on the venue."""
        return [
            (t.venue, t.symbol, t.position_side, t.levels.stop_loss, t.levels.take_profit, t.intent_id)
            for t in self.trades.values()
            if t.levels is not None
        ]

    def _score(self, symbol: str, pnl: Decimal) -> None:
        row = self.leaderboard.setdefault(symbol, {"symbol": symbol, "closed_trades": 0, "wins": 0, "pnl_usdt": 0.0})
        row["closed_trades"] += 1
        row["wins"] += 1 if pnl > 0 else 0
        row["pnl_usdt"] = round(row["pnl_usdt"] + float(pnl), 8)

    # ------------------------------------------------------------------------------------------
    # state
    def position_notes(self) -> Mapping[PositionKey, dict]:
        return {
            (t.venue, t.symbol, t.position_side): {
                "stop_loss": t.levels.stop_loss if t.levels else None,
                "take_profit": t.levels.take_profit if t.levels else None,
                "bars_held": t.bars_held,
                "intent_id": t.intent_id,
            }
            for t in self.trades.values()
        }

    def publish(self, sink: StateSink, now_wall: int) -> None:
        sink.put(
            "screener",
            {
                "tail": [_reading_doc(*x) for x in self.screener_tail[-SCREENER_TAIL:]],
                "last_cycle": self.last_cycle,
                "updated_at_ms": now_wall,
            },
        )
        sink.put("signals", {"latest": self.signals_tail[-SIGNALS_KEPT:], "updated_at_ms": now_wall})
        sink.put(
            "leaderboard",
            {"symbols": sorted(self.leaderboard.values(), key=lambda r: -r["pnl_usdt"]), "updated_at_ms": now_wall},
        )

    def snapshot(self) -> dict:
        return {
            "trades": [t.to_doc() for t in self.trades.values()],
            "cooldown": [[v, s, n] for (v, s), n in self.cooldown.items() if n],
            "bad_data": [[v, s, n] for (v, s), n in self.bad_data.items() if n],
            "leaderboard": self.leaderboard,
            "signals_tail": self.signals_tail[-SIGNALS_KEPT:],
        }

    def restore(self, snap: dict) -> None:
        self.trades = {(t["venue"], t["symbol"]): OpenTrade.from_doc(t) for t in snap.get("trades", [])}
        self.cooldown = {(v, s): n for v, s, n in snap.get("cooldown", [])}
        self.bad_data = {(v, s): n for v, s, n in snap.get("bad_data", [])}
        self.leaderboard = snap.get("leaderboard", {})
        self.signals_tail = snap.get("signals_tail", [])


def _exposure(ledger: Ledger, symbol: str) -> ExposureView:
    return ExposureView(
        nav=ledger.nav(),
        gross_notional=ledger.gross_notional(),
        symbol_notional=sum((p.notional for p in ledger.positions.values() if p.symbol == symbol), Decimal(0)),
        open_positions=len(ledger.positions),
    )


def _decision_doc(d: Decision, r: Reading, qty: Decimal, notional: Decimal) -> dict:
    return {
        "ts": d.ts,
        "venue": d.venue,
        "symbol": d.symbol,
        "candidate": d.candidate.value if d.candidate else None,
        "z": round(r.z, 4),
        "rsi": round(r.rsi, 2),
        "cross_up": r.cross_up,
        "cross_down": r.cross_down,
        "qty": str(qty),
        "notional_usdt": round(float(notional), 2),
        "veto": d.veto,
        "action": "send" if d.go else "skip",
    }


def _reading_doc(r: Reading, in_trade: bool, side: str) -> dict:
    return {
        "ts": r.ts,
        "venue": r.venue,
        "symbol": r.symbol,
        "timeframe": r.timeframe,
        "close": r.close,
        "z": round(r.z, 4),
        "rsi": round(r.rsi, 2),
        "atr": r.atr,
        "atr_pct": round(r.atr_pct, 6),
        "cross_up": r.cross_up,
        "cross_down": r.cross_down,
        "in_trade": in_trade,
        "side": side,
    }
