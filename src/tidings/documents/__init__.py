"""Documents for the fax and post channels, as pure functions.

``pdf`` checks what a customer hands us (a PDF within the channel's limits); ``fax`` renders it
as TIFF-F for a T.37 gateway; ``letter`` and ``postcard`` render the print-ready PDF a printer or
print-and-mail house receives, with the addresses placed where the envelope or card shows them;
``pricing`` counts what a document costs. Nothing here does I/O: bytes in, bytes out.

PDFium (pypdfium2) rasterizes and is not thread-safe: call these from one thread per process
(the service renders in the dispatcher's worker, not in a thread pool).
"""
