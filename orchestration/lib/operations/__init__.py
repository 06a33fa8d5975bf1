"""What is happening now (issue 11): the at-risk prediction's backtest (``backtest``)."""
