"""DRY_RUN_MODE: reads from the real venue, fills simulated against its book, nothing sent to it."""

from decimal import Decimal as D

from execution.exchanges.dry_run import RealBookDryRunVenue
from execution.exchanges.paper import PaperVenue
from execution.models import FeeSchedule, OrderRequest, OrderType, PositionSide, Side, SymbolFilters

F = SymbolFilters("binance_um", "BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("1000"), D("5"))


def test_orders_never_reach_the_real_venue_and_fills_are_simulated_at_its_book():
    real = PaperVenue(
        "binance_um",
        D("500"),
        {"BTCUSDT": F},
        FeeSchedule(D("0.0002"), D("0.0004")),
        slippage_bps=D(0),
        half_spread_bps=D("1"),
    )
    real.on_mark("BTCUSDT", 1_000, D("60000"))
    dry = RealBookDryRunVenue(real, D("10000"), slippage_bps=D(0))
    order = dry.place_order(
        OrderRequest(
            "binance_um", "BTCUSDT", Side.BUY, PositionSide.LONG, OrderType.MARKET, D("0.05"), "cid1", "intent"
        )
    )
    [fill] = dry.drain_fills()
    assert fill.simulated and fill.record()["status"] == "simulated"
    assert fill.price == D("60006")  # the real book's ask (mid 60000 + 1 bp), no extra slippage configured
    assert fill.fee_usdt == D("1.20012000")  # the real venue's taker fee: 0.05 * 60006 * 0.0004
    assert real.open_orders() == [] and real.get_order("BTCUSDT", "cid1") is None
    assert real.positions() == [] and dry.positions()[0].qty == D("0.05")
    assert order.client_order_id == "cid1"
    assert dry.set_leverage("BTCUSDT", 10) is False and real.leverage("BTCUSDT") == 1
