"""Shared test helpers: real loopback servers and a real headless Chromium."""
