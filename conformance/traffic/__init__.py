"""Clause verdicts on real traffic: `billing-kit proxy` (live) and `billing-kit judge` (recorded).

record.py    Seen: one exchange as observed; to_exchange() -> model.Exchange
http1.py     a passive HTTP/1.1 observer over the bytes the proxy forwards
proxy.py     the asyncio reverse proxy (two byte pumps per connection)
capture.py   the proxy's NDJSON capture (keys replaced by pseudonyms)
har.py       HAR 1.2 reader
adapter.py   the one place the suite's judging functions are called
judge.py     one exchange -> findings blamed on the client or the server
verdicts.py  findings folded per clause (and per party) into a RunResult
session.py   live lines, capture and reports around the judge
worker.py    the proxy's judge process and the feeder that batches exchanges to it
cli.py       the click commands
"""
