"""IPP/1.1 and 2.0 (RFC 8010 encoding, RFC 8011 model), sans-IO.

``codec`` turns messages into bytes and back; ``client`` builds the requests a print job needs
and reads their answers into events; ``constants`` holds the numbers. No sockets, no HTTP:
``net.ipp`` posts the bytes (``application/ipp``) and the printer simulator serves them.
"""
