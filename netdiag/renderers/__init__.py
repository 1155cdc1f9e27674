"""Renderers format a finished Report; they decide nothing."""
