"""Tasks (点单 → 派单 → 接单 → 完成 → 评单): intake, dispatch, the lifecycle commands and the domain actions behind them."""
