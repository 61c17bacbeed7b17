"""What the executor publishes (the state documents) and how it resumes (snapshot / restore).

A mixin of `execution.engine.Engine`: the documents readers see are built here from the
engine's books, and the restart snapshot is written and read back here.
"""

from __future__ import annotations

from decimal import Decimal

from execution.control import ControlState
from execution.exchanges.paper import PaperVenue
from execution.ledger import Ledger, position_record
from execution.models import OrderRequest, OrderType, PositionSide, Side
from execution.screener import Reading
from execution.trades import InFlight, OpenTrade

SCREENER_TAIL = 10
SIGNALS_KEPT = 20


class StatePublisher:
    # ------------------------------------------------------------------------------------------
    # state out
    def _journal(self, collection: str, record: dict) -> None:
        if record.get("id") in self.already_journaled:
            return
        self.seq += 1
        record["seq"] = self.seq
        self.sink.append(collection, record)

    def account_line(self) -> None:
        bal = self.ledger.wallet
        testnet = self.s.profile == "testnet"
        self.log.info(
            "[executor] account OK — futures=True testnet=%s dry_run=%s balances: [USDT wallet=%.2f "
            "upnl=%.2f nav=%.2f] positions: %d",
            testnet,
            self.s.dry_run or self.s.profile == "paper",
            bal,
            self.ledger.unrealized(),
            self.ledger.nav(),
            len(self.ledger.positions),
        )

    def nav_doc(self, now: int) -> dict:
        led, perf = self.ledger, self.perf
        nav = led.nav()
        d_abs, d_pct, ref = perf.change_24h()
        return {
            "env": self.s.hedge_env,
            "profile": self.s.profile,
            "safe_mode": self.s.safe_mode,
            "dry_run": self.s.dry_run,
            "mode": self.control.mode,
            "nav": nav,
            "wallet_balance": led.wallet,
            "unrealized_pnl": led.unrealized(),
            "initial_capital": led.initial_wallet,
            "realized_pnl_total": led.realized_total,
            "fees_total": led.fees_total,
            "funding_total": led.funding_total,
            "peak_nav": perf.peak_nav,
            "drawdown_pct": round(perf.drawdown_pct(nav), 6),
            "max_drawdown_pct": round(perf.max_dd_pct, 6),
            "day": perf.day,
            "day_start_nav": perf.day_start_nav,
            "daily_pnl_pct": round(float((nav - perf.day_start_nav) / perf.day_start_nav * 100), 6)
            if perf.day_start_nav
            else 0.0,
            "nav_24h_ago": ref,
            "change_24h_abs": d_abs,
            "change_24h_pct": round(d_pct, 6),
            "reserve_btc": self.s.reserve_btc,
            "reserve_included_in_nav": False,
            "open_positions": len(led.positions),
            "bars": self.bars,
            "fills": self.fills,
            "orders_sent": self.orders_sent,
            "orders_rejected": self.orders_rejected,
            "market_ts": self.cycle_ts,
            "updated_at_ms": now,
            "started_at_ms": self.started_wall_ms,
            "run": self.run_label,
        }

    def positions_doc(self, now: int) -> dict:
        led = self.ledger
        per_venue = {}
        for v in sorted({p.venue for p in led.positions.values()}):
            per_venue[v] = {"gross_notional": led.gross_notional(v), "net_notional": led.net_notional(v)}
        rows = []
        for p in sorted(led.positions.values(), key=lambda p: (p.symbol, p.position_side.value, p.venue)):
            row = position_record(p)
            trade = self.trades.get((p.venue, p.symbol))
            if trade is not None and trade.position_side is p.position_side:
                row.update(
                    stop_loss=trade.levels.stop_loss if trade.levels else None,
                    take_profit=trade.levels.take_profit if trade.levels else None,
                    bars_held=trade.bars_held,
                    intent_id=trade.intent_id,
                )
            rows.append(row)
        return {
            "positions": rows,
            "gross_notional": led.gross_notional(),
            "net_notional": led.net_notional(),
            "per_venue": per_venue,
            "market": [
                dict(v, age_ms=now - v.get("recv_ts", v.get("mark_ts", now))) for _, v in sorted(self.market.items())
            ],
            "market_ts": self.cycle_ts,
            "updated_at_ms": now,
        }

    def control_doc(self, now: int) -> dict:
        doc = self.control.to_doc()
        doc.update(
            safe_mode=self.s.safe_mode,
            dry_run=self.s.dry_run,
            profile=self.s.profile,
            limits={
                "KILL_DD_PCT": self.s.risk.kill_dd_pct,
                "KILL_DAILY_LOSS_PCT": self.s.risk.kill_daily_loss_pct,
                "MAX_POSITIONS": self.s.risk.max_positions,
                "MAX_LEVERAGE": self.s.risk.max_leverage,
                "MAX_ORDERS_PER_MIN": self.s.risk.max_orders_per_min,
                "MAX_CANCELS_PER_MIN": self.s.risk.max_cancels_per_min,
            },
            counters={
                "orders_last_min": self.order_rate.count(self.cycle_ts),
                "cancels_last_min": self.cancel_rate.count(self.cycle_ts),
                "orders_sent": self.orders_sent,
                "orders_rejected": self.orders_rejected,
            },
            stale_symbols=sorted(f"{v}:{s}" for v, s in self.stale),
            reconciliation=self.reconciliation[-50:],
            market_ts=self.cycle_ts,
            updated_at_ms=now,
        )
        return doc

    def publish(self, now: int | None = None, force: bool = False) -> None:
        now = self.wall_ms() if now is None else now
        self._last_publish_wall = now
        sink = self.sink
        nav_doc = self.nav_doc(now)
        sink.put("nav", nav_doc)
        sink.put("positions", self.positions_doc(now))
        sink.put("control", self.control_doc(now))
        sink.put(
            "screener",
            {
                "tail": [_reading_doc(*x) for x in self.screener_tail[-SCREENER_TAIL:]],
                "last_cycle": self.last_cycle,
                "updated_at_ms": now,
            },
        )
        sink.put("signals", {"latest": self.signals_tail[-SIGNALS_KEPT:], "updated_at_ms": now})
        sink.put(
            "leaderboard",
            {"symbols": sorted(self.leaderboard.values(), key=lambda r: -r["pnl_usdt"]), "updated_at_ms": now},
        )
        if self.arb is not None:
            self.arb.publish(sink, now)
        sink.put_file(
            "peak_state",
            {
                "peak_nav": self.perf.peak_nav,
                "peak_ts": self.perf.peak_ts,
                "nav": nav_doc["nav"],
                "drawdown_pct": nav_doc["drawdown_pct"],
                "max_drawdown_pct": nav_doc["max_drawdown_pct"],
                "day": self.perf.day,
                "day_start_nav": self.perf.day_start_nav,
                "market_ts": self.cycle_ts,
                "updated_at_ms": now,
            },
        )
        sink.put_file("synced_state", self.snapshot(now))
        sink.flush(force=force)

    # ------------------------------------------------------------------------------------------
    # restart
    def snapshot(self, now: int) -> dict:
        venues = {}
        for name, v in self.venues.items():
            if isinstance(v, PaperVenue):
                venues[name] = v.snapshot()
        return {
            "version": 1,
            "run": self.run_label,
            "market_ts": self.cycle_ts,
            "seq": self.seq,
            "ledger": self.ledger.snapshot(),
            "perf": self.perf.snapshot(),
            "control": self.control.to_doc(),
            "trades": [t.to_doc() for t in self.trades.values()],
            "in_flight": [
                {
                    "cid": cid,
                    "purpose": f.purpose,
                    "sent_ts": f.sent_ts,
                    "meta": f.meta,
                    "unknown": f.unknown,
                    "request": _request_doc(f.request),
                }
                for cid, f in self.in_flight.items()
            ],
            "cooldown": [[v, s, n] for (v, s), n in self.cooldown.items() if n],
            "bad_data": [[v, s, n] for (v, s), n in self.bad_data.items() if n],
            "leaderboard": self.leaderboard,
            "signals_tail": self.signals_tail[-SIGNALS_KEPT:],
            "counters": {
                "bars": self.bars,
                "fills": self.fills,
                "orders_sent": self.orders_sent,
                "orders_rejected": self.orders_rejected,
            },
            "last_nav_point_ts": self._last_nav_point_ts,
            "paper_venues": venues,
            "updated_at_ms": now,
            "control_offset": self.commands.offset if self.commands is not None else 0,
            "arbitrage": self.arb.snapshot() if self.arb is not None else None,
        }

    def restore(self, snap: dict, journaled_ids: set[str]) -> None:
        """Resume from a snapshot: events up to its market time only warm the indicators."""
        self.ledger = Ledger.restore(snap["ledger"])
        self.perf.restore(snap["perf"])
        self.control = ControlState.from_doc(snap["control"])
        self.trades = {(t["venue"], t["symbol"]): OpenTrade.from_doc(t) for t in snap.get("trades", [])}
        self.in_flight = {
            f["cid"]: InFlight(
                _request_from_doc(f["request"]), f["purpose"], f["sent_ts"], f.get("meta", {}), f.get("unknown", False)
            )
            for f in snap.get("in_flight", [])
        }
        self.cooldown = {(v, s): n for v, s, n in snap.get("cooldown", [])}
        self.bad_data = {(v, s): n for v, s, n in snap.get("bad_data", [])}
        self.leaderboard = snap.get("leaderboard", {})
        self.signals_tail = snap.get("signals_tail", [])
        c = snap.get("counters", {})
        self.bars, self.fills = c.get("bars", 0), c.get("fills", 0)
        self.orders_sent, self.orders_rejected = c.get("orders_sent", 0), c.get("orders_rejected", 0)
        self.seq = snap.get("seq", 0)
        self._last_nav_point_ts = snap.get("last_nav_point_ts", 0)
        self.warming_until_ts = snap["market_ts"]
        self.already_journaled = journaled_ids
        self.restored_control_offset = int(snap.get("control_offset", 0))
        for name, vs in snap.get("paper_venues", {}).items():
            venue = self.venues.get(name)
            if isinstance(venue, PaperVenue):
                venue.restore(vs)
        if self.arb is not None and snap.get("arbitrage"):
            self.arb.restore(snap["arbitrage"])


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


def _request_doc(r: OrderRequest) -> dict:
    return {
        "venue": r.venue,
        "symbol": r.symbol,
        "side": r.side.value,
        "position_side": r.position_side.value,
        "order_type": r.order_type.value,
        "quantity": str(r.quantity),
        "client_order_id": r.client_order_id,
        "intent_id": r.intent_id,
        "price": str(r.price) if r.price is not None else None,
        "reduce_only": r.reduce_only,
    }


def _request_from_doc(d: dict) -> OrderRequest:
    return OrderRequest(
        venue=d["venue"],
        symbol=d["symbol"],
        side=Side(d["side"]),
        position_side=PositionSide(d["position_side"]),
        order_type=OrderType(d["order_type"]),
        quantity=Decimal(d["quantity"]),
        client_order_id=d["client_order_id"],
        intent_id=d["intent_id"],
        price=Decimal(d["price"]) if d.get("price") else None,
        reduce_only=d.get("reduce_only", False),
    )
