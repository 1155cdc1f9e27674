"""What proves a presented chain and what only explains it: the certificate helpers
(`chains`), the gateway's client identity (`identity`), the pin file (`pins`) and the pin
commands (`pin_commands`: import, learn, verify), the trust stores parsed from what the
probes read and the public root set (`stores`), the product catalogue (`products`), and
the trust model that turns one presented chain into the facts the rules weigh, once per
chain (`model`).

May import the report's observations, the settings and the privacy helpers; never probes,
diagnosis, the session, the renderers or the command line.
"""
