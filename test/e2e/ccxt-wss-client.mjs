// A client process for the --tls test: unmodified ccxt pointed at the façade's https:// and
// wss:// URLs (argv: REST base, WS base), trusting its certificate only through
// NODE_EXTRA_CA_CERTS, as a user would. Prints the first trades it watched, as JSON.
import ccxt from 'ccxt';

const [rest, ws] = process.argv.slice(2);
const ex = new ccxt.pro.binance({ urls: { api: { public: `${rest}/api/v3`, fapiPublic: `${rest}/fapi/v1`, dapiPublic: `${rest}/dapi/v1`, ws: { spot: `${ws}/ws` } } } });
const markets = await ex.loadMarkets();
const trades = [];
while (trades.length < 5) trades.push(...await ex.watchTrades('BTC/USDT'));
process.stdout.write(JSON.stringify({ markets: Object.keys(markets), ids: trades.slice(0, 5).map((t) => t.id) }));
await ex.close();
