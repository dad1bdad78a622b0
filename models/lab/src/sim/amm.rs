//! A constant-product pool `x · y = k` between the token (`x`) and a quote asset (`y`).
//!
//! The swap fee is taken from the input before the invariant is applied (as in
//! Uniswap v2); the caller decides where the fee goes (LPs or the treasury), so
//! a swap here leaves `k` unchanged and fees re-enter through [`Pool::deposit`].

use serde::Serialize;

/// Pool reserves. The mid price is `quote / tokens` (quote per token).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pool {
    /// Token reserve `x`.
    pub tokens: f64,
    /// Quote reserve `y`.
    pub quote: f64,
}

/// The result of one swap, seen from the trader.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trade {
    /// Tokens received (buy, positive) or paid in (sell, negative).
    pub tokens: f64,
    /// Quote paid in (buy, positive) or received (sell, negative).
    pub quote: f64,
    /// The fee, valued in quote at the pre-trade mid price.
    pub fee_value: f64,
}

impl Pool {
    /// A pool holding `tokens` and `quote`; its mid price is their ratio.
    pub fn new(tokens: f64, quote: f64) -> Self {
        Self { tokens, quote }
    }

    /// The mid price `quote / tokens`, in quote per token.
    pub fn price(&self) -> f64 {
        self.quote / self.tokens
    }

    /// Total value locked in quote: both sides are worth the same at the mid price.
    pub fn value(&self) -> f64 {
        2.0 * self.quote
    }

    /// Spends `quote_in` (fee `fee` as a fraction taken from the input):
    /// `tokens_out = x − k / (y + quote_in·(1 − fee))`.
    pub fn buy(&mut self, quote_in: f64, fee: f64) -> Trade {
        let quote_in = quote_in.max(0.0);
        let net = quote_in * (1.0 - fee);
        let k = self.tokens * self.quote;
        let tokens_after = k / (self.quote + net);
        let tokens_out = self.tokens - tokens_after;
        self.tokens = tokens_after;
        self.quote += net;
        Trade { tokens: tokens_out, quote: quote_in, fee_value: quote_in * fee }
    }

    /// Sells `tokens_in` (fee from the input): `quote_out = y − k / (x + tokens_in·(1 − fee))`.
    pub fn sell(&mut self, tokens_in: f64, fee: f64) -> Trade {
        let tokens_in = tokens_in.max(0.0);
        let mid = self.price();
        let net = tokens_in * (1.0 - fee);
        let k = self.tokens * self.quote;
        let quote_after = k / (self.tokens + net);
        let quote_out = self.quote - quote_after;
        self.quote = quote_after;
        self.tokens += net;
        Trade { tokens: -tokens_in, quote: -quote_out, fee_value: tokens_in * fee * mid }
    }

    /// Adds `value` quote worth of liquidity at the mid price, half on each side
    /// (price unchanged, `k` grows). Also how LP fees are reinvested.
    pub fn deposit(&mut self, value: f64) {
        let value = value.max(0.0);
        let price = self.price();
        self.quote += value / 2.0;
        self.tokens += value / 2.0 / price;
    }

    /// Removes `fraction` of both reserves (price unchanged); returns `(tokens, quote)` withdrawn.
    pub fn withdraw(&mut self, fraction: f64) -> (f64, f64) {
        let fraction = fraction.clamp(0.0, 1.0);
        let (tokens, quote) = (self.tokens * fraction, self.quote * fraction);
        self.tokens -= tokens;
        self.quote -= quote;
        (tokens, quote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn swaps_keep_the_invariant_and_move_the_price_the_right_way() {
        let mut pool = Pool::new(1_000.0, 2_000.0);
        assert!(close(pool.price(), 2.0));
        let k = pool.tokens * pool.quote;
        let buy = pool.buy(100.0, 0.003);
        assert!(close(pool.tokens * pool.quote, k));
        // 1000 − 2e6 / (2000 + 99.7) = 47.4844…
        assert!(close(buy.tokens, 1_000.0 - 2_000_000.0 / 2_099.7));
        assert!(close(buy.fee_value, 0.3));
        assert!(pool.price() > 2.0);
        let sell = pool.sell(buy.tokens, 0.003);
        assert!(close(pool.tokens * pool.quote, k));
        // A round trip loses the two fees, so less quote comes back than went in,
        // and the fees left the pool, so it ends slightly off its start.
        assert!(-sell.quote < 100.0 && -sell.quote > 99.0);
        assert!((pool.price() - 2.0).abs() < 0.01);
    }

    #[test]
    fn liquidity_changes_keep_the_price() {
        let mut pool = Pool::new(500.0, 1_000.0);
        pool.deposit(200.0);
        assert!(close(pool.price(), 2.0));
        assert!(close(pool.value(), 2_200.0));
        let (tokens, quote) = pool.withdraw(0.25);
        assert!(close(tokens, 137.5) && close(quote, 275.0));
        assert!(close(pool.price(), 2.0));
    }
}
