"""ITU-T T.37 store-and-forward Internet fax, sans-IO: the e-mail a fax gateway takes
(``submission``) and the reports it sends back (``reports``: RFC 3464 DSNs and RFC 8098 MDNs).

Bytes in, events out; no sockets. ``net.fax_smtp`` submits with aiosmtplib and
``net.report_listener`` receives reports with aiosmtpd.
"""
