"""The venues' account-history answers, in the shapes their docs show, through the pure parsers:
Binance income and userTrades, OKX bills and fills."""

from __future__ import annotations

from decimal import Decimal as D

from execution.exchanges import binance_history as bh
from execution.exchanges import okx_history as oh
from execution.models import PositionSide, Side

# GET /fapi/v1/income (docs example rows, and a FUNDING_FEE row as the venue answers it)
TRANSFER = {
    "symbol": "",
    "incomeType": "TRANSFER",
    "income": "-0.37500000",
    "asset": "USDT",
    "info": "TRANSFER",
    "time": 1570608000000,
    "tranId": 9689322392,
    "tradeId": "",
}
COMMISSION = {
    "symbol": "BTCUSDT",
    "incomeType": "COMMISSION",
    "income": "-0.01000000",
    "asset": "USDT",
    "info": "COMMISSION",
    "time": 1570636800000,
    "tranId": 9689322392,
    "tradeId": "2059192",
}
FUNDING = {
    "symbol": "BTCUSDT",
    "incomeType": "FUNDING_FEE",
    "income": "-1.20640000",
    "asset": "USDT",
    "info": "FUNDING_FEE",
    "time": 1570636800000,
    "tranId": 3812412,
    "tradeId": "",
}


def test_binance_income_rows():
    t = bh.parse_income(TRANSFER)
    assert (t.kind, t.venue_id, t.amount, t.asset, t.symbol, t.ts) == (
        "transfer",
        "TRANSFER:9689322392",
        D("-0.375"),
        "USDT",
        "",
        1570608000000,
    )
    f = bh.parse_income(FUNDING)
    assert (f.kind, f.venue_id, f.amount, f.symbol) == ("funding", "FUNDING_FEE:3812412", D("-1.2064"), "BTCUSDT")
    c = bh.parse_income(COMMISSION)
    assert c.kind == "other" and c.venue_id == "COMMISSION:9689322392" != t.venue_id  # tranId is unique per type
    for kind in ("INTERNAL_TRANSFER", "CROSS_COLLATERAL_TRANSFER", "STRATEGY_UMFUTURES_TRANSFER"):
        assert bh.parse_income({**TRANSFER, "incomeType": kind}).kind == "transfer"
    assert bh.parse_income({**TRANSFER, "incomeType": "WELCOME_BONUS"}).kind == "other"


USER_TRADE = {  # GET /fapi/v1/userTrades (docs example): the commission shown negative
    "buyer": False,
    "commission": "-0.07819010",
    "commissionAsset": "USDT",
    "id": 698759,
    "maker": False,
    "orderId": 25851813,
    "price": "7819.01",
    "qty": "0.002",
    "quoteQty": "15.63802",
    "realizedPnl": "-0.91539999",
    "side": "SELL",
    "positionSide": "SHORT",
    "symbol": "BTCUSDT",
    "time": 1569514978020,
}


def test_binance_user_trades_either_commission_sign_is_a_cost():
    t = bh.parse_user_trade(USER_TRADE)
    assert (t.trade_id, t.order_id, t.client_order_id, t.symbol, t.ts) == (
        "698759",
        "25851813",
        "",
        "BTCUSDT",
        1569514978020,
    )
    assert (t.side, t.position_side, t.qty, t.price, t.maker) == (
        Side.SELL,
        PositionSide.SHORT,
        D("0.002"),
        D("7819.01"),
        False,
    )
    assert (t.fee, t.fee_asset, t.realized_pnl) == (D("0.0781901"), "USDT", D("-0.91539999"))
    assert bh.parse_user_trade({**USER_TRADE, "commission": "0.07819010"}).fee == t.fee  # as the venue answers
    bnb = bh.parse_user_trade({**USER_TRADE, "commission": "0.00012", "commissionAsset": "BNB"})
    assert (bnb.fee, bnb.fee_asset) == (D("0.00012"), "BNB")
    one_way = bh.parse_user_trade({**USER_TRADE, "positionSide": "BOTH", "side": "BUY"})
    assert one_way.position_side is PositionSide.LONG


# GET /api/v5/account/bills rows (docs fields) for a funding fee and a transfer in
FUNDING_BILL = {
    "bal": "8694.2179403378290202",
    "balChg": "-0.4823",
    "billId": "623950854533513219",
    "ccy": "USDT",
    "clOrdId": "",
    "execType": "",
    "fee": "0",
    "fillFwdPx": "",
    "fillIdxPx": "",
    "fillMarkPx": "",
    "fillMarkVol": "",
    "fillPxUsd": "",
    "fillPxVol": "",
    "fillTime": "",
    "from": "",
    "instId": "BTC-USDT-SWAP",
    "instType": "SWAP",
    "interest": "0",
    "mgnMode": "isolated",
    "notes": "",
    "ordId": "",
    "pnl": "-0.4823",
    "posBal": "0",
    "posBalChg": "0",
    "px": "60290.1",
    "subType": "173",
    "sz": "80",
    "tag": "",
    "to": "",
    "tradeId": "",
    "ts": "1695033476167",
    "type": "8",
}
TRANSFER_BILL = {
    **FUNDING_BILL,
    "balChg": "2500",
    "billId": "623950854533513220",
    "from": "6",
    "instId": "",
    "instType": "",
    "mgnMode": "",
    "pnl": "0",
    "px": "",
    "subType": "11",
    "sz": "2500",
    "to": "18",
    "type": "1",
}


def test_okx_funding_and_transfer_bills():
    f = oh.parse_bill(FUNDING_BILL, D("0.01"))
    assert (f.kind, f.venue_id, f.amount, f.symbol, f.qty, f.mark_price) == (
        "funding",
        "623950854533513219",
        D("-0.4823"),
        "BTC-USDT-SWAP",
        D("0.80"),  # 80 contracts of 0.01 BTC
        D("60290.1"),
    )
    t = oh.parse_bill(TRANSFER_BILL)
    assert (t.kind, t.amount, t.symbol, t.asset) == ("transfer", D(2500), "", "USDT")
    assert "from 6 to 18" in t.detail
    out = oh.parse_bill({**TRANSFER_BILL, "balChg": "-700", "subType": "12", "from": "18", "to": "6"})
    assert (out.kind, out.amount) == ("transfer", D(-700))
    assert oh.parse_bill({**FUNDING_BILL, "type": "2", "subType": "3"}).kind == "other"


FILL = {  # GET /api/v5/trade/fills(-history) row (docs fields) of a SWAP close
    "side": "sell",
    "fillSz": "30",
    "fillPx": "60123.4",
    "fillPxVol": "",
    "fillFwdPx": "",
    "fee": "-0.90185",
    "fillPnl": "3.702",
    "ordId": "680800019749904384",
    "feeRate": "",
    "instType": "SWAP",
    "fillPxUsd": "",
    "instId": "BTC-USDT-SWAP",
    "clOrdId": "hf0123456789abcdef",
    "posSide": "long",
    "billId": "680800019754098688",
    "subType": "5",
    "fillMarkVol": "",
    "tag": "",
    "fillTime": "1708587373361",
    "execType": "T",
    "fillIdxPx": "60120.0",
    "tradeId": "744876980",
    "fillMarkPx": "60121.3",
    "feeCcy": "USDT",
    "ts": "1708587373362",
}


def test_okx_fills_in_base_units_with_the_fee_paid():
    t = oh.parse_fill(FILL, D("0.01"))
    assert (t.trade_id, t.order_id, t.client_order_id, t.ts) == (
        "680800019754098688",
        "680800019749904384",
        "hf0123456789abcdef",
        1708587373361,
    )
    assert (t.side, t.position_side, t.qty, t.price) == (Side.SELL, PositionSide.LONG, D("0.30"), D("60123.4"))
    assert (t.fee, t.fee_asset, t.maker, t.realized_pnl) == (D("0.90185"), "USDT", False, D("3.702"))
    rebate = oh.parse_fill({**FILL, "fee": "0.01", "execType": "M"}, D("0.01"))
    assert (rebate.fee, rebate.maker) == (D("-0.01"), True)
