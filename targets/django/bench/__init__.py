"""The bakeoff contract (targets/API.md) as a Django app: sync and async views."""
