"""What proves a presented chain and what only explains it.

`stores` reads the trust stores (this machine's, the public root set); `model` turns one
presented chain and everything netdiag was told about the vendor's CAs into the facts the
interception rules weigh — once per chain. Modules here may import the certificate helpers
(`netdiag.trust.chains`), the pin format (`netdiag.trust.pins`), the product catalogue and the
observations; never probes, diagnosis or renderers.
"""
