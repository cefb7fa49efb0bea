"""dbfleet's state store: runs, per-target results, approvals and fleet ledgers."""

from dbfleet.state.store import (
    Approval,
    LedgerRow,
    Rollout,
    Run,
    StateStore,
    open_store,
    store_url,
)

__all__ = ["Approval", "LedgerRow", "Rollout", "Run", "StateStore", "open_store", "store_url"]
