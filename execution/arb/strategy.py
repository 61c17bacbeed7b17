"""The arbitrage loop as one of the engine's strategies, and its operator commands.

The loop (`execution/arb/loop.py`) sends its own two-leg orders and keeps its own pair book;
this adapter maps the engine's hooks onto it and answers `arb-edge`, `arb-preview`,
`arb-execute` and `arb-flatten` from the control log.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from execution import logs
from execution.arb import ops
from execution.arb.loop import ArbitrageLoop
from execution.control import Answer
from execution.control_log import Command
from execution.feeds.events import BookUpdate, CandleClosed, FundingSettled
from execution.models import Fill, PositionSide
from execution.state.store import StateSink
from execution.strategy import BaseStrategy, CommandHandler, StrategyContext
from execution.trades import InFlight

NAME = "arbitrage"


class ArbitrageStrategy(BaseStrategy):
    name = NAME

    def __init__(self, loop: ArbitrageLoop):
        self.loop = loop
        self.log = logs.get()

    # market events
    def on_candle(self, c: CandleClosed, ctx: StrategyContext, trading: bool) -> None:
        self.loop.on_candle(c, trade=trading)

    def on_book(self, b: BookUpdate, ctx: StrategyContext, trading: bool) -> None:
        self.loop.on_book(b, trade=trading)

    def on_funding(self, f: FundingSettled, ctx: StrategyContext) -> None:
        self.loop.on_funding(f)

    def on_cycle_end(self, ts: int, ctx: StrategyContext, trading: bool) -> None:
        self.loop.on_cycle_end(ts, trade=trading)

    # orders and positions
    def claims(self, client_order_id: str) -> str | None:
        return self.loop.purpose(client_order_id)

    def reference_price(self, client_order_id: str) -> Decimal | None:
        return self.loop.reference_price(client_order_id)

    def leverage_for(self, venue: str, symbol: str) -> int:
        return self.loop.leverage_for(venue, symbol)

    def owned_qty(self, venue: str, symbol: str, side: PositionSide) -> Decimal:
        return self.loop.owned_qty(venue, symbol, side)

    def on_fill(self, fill: Fill, booked: Fill, flight: InFlight | None, ctx: StrategyContext) -> None:
        purpose = self.loop.purpose(fill.client_order_id)
        if purpose:  # the pair book is updated by the loop from the leg orders themselves
            self.log.info(
                "[arb] FILL %s %s %s positionSide=%s qty=%s price=%s cid=%s (%s)",
                fill.venue,
                fill.symbol,
                fill.side.value,
                fill.position_side.value,
                fill.qty,
                fill.price,
                fill.client_order_id,
                purpose,
            )

    def flatten(self, ts: int, reason: str, ctx: StrategyContext) -> None:
        self.loop.flatten(ts, reason=reason)

    # operator commands
    def commands(self) -> Mapping[str, CommandHandler]:
        handlers: dict[str, CommandHandler] = {
            "arb-edge": self._edge,
            "arb-preview": self._preview,
            "arb-execute": self._execute,
            "arb-flatten": self._flatten_command,
        }
        return {name: _refusing_ops_errors(handler) for name, handler in handlers.items()}

    def _edge(self, cmd: Command, ctx: StrategyContext) -> tuple[Answer, dict | None]:
        return Answer(True, "current edges"), ops.edge(self.loop)

    def _preview(self, cmd: Command, ctx: StrategyContext) -> tuple[Answer, dict | None]:
        result = ops.preview(self.loop, cmd.args["pair"], cmd.args.get("size"))
        return Answer(True, f"preview {cmd.args['pair']}"), result

    def _execute(self, cmd: Command, ctx: StrategyContext) -> tuple[Answer, dict | None]:
        if ctx.control.holding:
            return Answer(False, f"HOLD ({ctx.control.reason}): no new risk"), None
        result = ops.execute(self.loop, cmd.args["pair"], cmd.args.get("size"))
        if not result.get("accepted"):
            return Answer(False, "refused: " + "; ".join(map(str, result.get("reasons", [])))), result
        return Answer(True, f"execute {cmd.args['pair']} started: {result.get('attempt_id')}"), result

    def _flatten_command(self, cmd: Command, ctx: StrategyContext) -> tuple[Answer, dict | None]:
        result = ops.flatten(self.loop)
        return Answer(True, f"closing {len(result['open_pairs_before'])} arbitrage pair(s)"), result

    # state
    def publish(self, sink: StateSink, now_wall: int) -> None:
        self.loop.publish(sink, now_wall)

    def snapshot(self) -> dict:
        return self.loop.snapshot()

    def restore(self, snap: dict) -> None:
        if snap:
            self.loop.restore(snap)

    def close(self) -> None:
        self.loop.close()


def _refusing_ops_errors(handler: CommandHandler) -> CommandHandler:
    """An operator mistake (unknown pair, bad size, no book yet) is a refusal with the reason."""

    def run(cmd: Command, ctx: StrategyContext) -> tuple[Answer, dict | None]:
        try:
            return handler(cmd, ctx)
        except ops.OpsError as exc:
            return Answer(False, str(exc)), None

    return run
