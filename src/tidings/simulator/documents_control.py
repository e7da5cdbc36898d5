"""Control API routes of the fax gateway and the printer: what each fax number and postal
mailbox received, with the pages as images (mounted under ``/v1/simulator`` by the service)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from tidings.documents.errors import DocumentRejected
from tidings.documents.raster import page_png
from tidings.simulator.fax_gateway import FaxGateway
from tidings.simulator.printer import PrinterSimulator

__all__ = ["fax_router", "post_router"]


def fax_router(gateway: FaxGateway) -> APIRouter:
    router = APIRouter()

    @router.get("/fax")
    async def fax_numbers() -> dict[str, Any]:
        return {"numbers": gateway.numbers(), **gateway.status()}

    @router.get("/fax/{number}")
    async def fax_tray(number: str, request: Request) -> dict[str, Any]:
        base = str(request.url.path).rstrip("/")
        return {"number": number, "faxes": [f.as_json(base) for f in gateway.tray(number)]}

    @router.get("/fax/{number}/{fax_id}/pages/{page}", response_class=Response)
    async def fax_page(number: str, fax_id: int, page: int) -> Response:
        fax = gateway.fax(number, fax_id)
        if fax is None or not 1 <= page <= len(fax.pages):
            raise HTTPException(404, f"no page {page} of fax {fax_id} to {number}")
        return Response(fax.pages[page - 1], media_type="image/png")

    @router.delete("/fax/{number}")
    async def clear_fax_tray(number: str) -> dict[str, Any]:
        return {"number": number, "deleted": gateway.clear_tray(number)}

    return router


def post_router(printer: PrinterSimulator) -> APIRouter:
    router = APIRouter()

    def now() -> float:
        return time.monotonic()

    @router.get("/post")
    async def mailboxes() -> dict[str, Any]:
        return {
            **printer.status(),
            "mailboxes": [
                {"mailbox": key, "address": list(jobs[0].address), "letters": len(jobs)}
                for key, jobs in sorted(printer.mailboxes().items())
            ],
        }

    @router.get("/post/jobs")
    async def jobs() -> dict[str, Any]:
        moment = now()
        return {"jobs": [job.as_json(moment, printer.config) for job in printer.jobs()]}

    @router.get("/post/{mailbox}")
    async def mailbox(mailbox: str, request: Request) -> dict[str, Any]:
        base = str(request.url.path).rstrip("/")
        moment = now()
        return {
            "mailbox": mailbox,
            "letters": [
                {
                    **job.as_json(moment, printer.config),
                    "pdf": f"{base}/{job.id}.pdf",
                    "page_images": [f"{base}/{job.id}/pages/{n}" for n in range(1, job.pages + 1)],
                }
                for job in printer.mailbox(mailbox)
            ],
        }

    def find(mailbox: str, job_id: int) -> bytes:
        job = printer.job(job_id)
        if job is None or job.mailbox != mailbox:
            raise HTTPException(404, f"no letter {job_id} in mailbox {mailbox}")
        return job.pdf

    @router.get("/post/{mailbox}/{job_id}.pdf", response_class=Response)
    async def letter_pdf(mailbox: str, job_id: int) -> Response:
        return Response(find(mailbox, job_id), media_type="application/pdf")

    @router.get("/post/{mailbox}/{job_id}/pages/{page}", response_class=Response)
    async def letter_page(mailbox: str, job_id: int, page: int) -> Response:
        try:
            png = page_png(find(mailbox, job_id), page, dpi=96, channel="letter")
        except DocumentRejected as error:
            raise HTTPException(404, error.message) from error
        return Response(png, media_type="image/png")

    return router
