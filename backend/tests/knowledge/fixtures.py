"""Small documents of every supported format, generated on the fly (nothing binary is committed)."""

from __future__ import annotations

from pathlib import Path


def write_pdf(path: Path, title: str, body: str) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 7, body, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_docx(path: Path, title: str, body: str) -> None:
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    document.add_heading("Details", level=2)
    document.add_paragraph(body)
    document.save(str(path))


def write_pptx(path: Path, title: str, body: str) -> None:
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = title
    slide.placeholders[1].text = body
    deck.save(str(path))


def write_xlsx(path: Path, title: str, body: str) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Fees"
    sheet.append(["Topic", "Answer"])
    sheet.append([title, body])
    book.save(str(path))


def write_html(path: Path, title: str, body: str) -> None:
    path.write_text(f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
                    f"<h2>Details</h2><p>{body}</p><script>alert(1)</script></body></html>")


def write_md(path: Path, title: str, body: str) -> None:
    path.write_text(f"# {title}\n\n## Details\n\n{body}\n")


def write_txt(path: Path, title: str, body: str) -> None:
    path.write_text(f"{title}\n\n{body}\n")


def write_csv(path: Path, title: str, body: str) -> None:
    path.write_text(f'topic,answer\n"{title}","{body}"\n')


WRITERS = {".pdf": write_pdf, ".docx": write_docx, ".pptx": write_pptx, ".xlsx": write_xlsx,
           ".html": write_html, ".md": write_md, ".txt": write_txt, ".csv": write_csv}

# One distinct fact per format, so a search proves that format's text really went in.
FACTS = {
    ".pdf": ("Kayak lessons", "Beginner kayak lessons run every Saturday at the lake dock and last two hours."),
    ".docx": ("Bike rental", "Renting a mountain bike costs 45 dollars per day, helmets included."),
    ".pptx": ("Ski tuning", "Ski tuning takes three days and includes edge sharpening and hot wax."),
    ".xlsx": ("Locker hire", "Lockers at the climbing gym cost 2 dollars per visit."),
    ".html": ("Snowshoe tours", "Guided snowshoe tours leave the visitor centre at 9am in winter."),
    ".md": ("Ski wax", "We wax skis in 24 hours for 30 dollars."),
    ".txt": ("Tent repair", "Torn tent mesh is patched in our workshop within five working days."),
    ".csv": ("Fishing licence", "Day fishing licences are sold at the front desk for 12 dollars."),
}
QUESTIONS = {
    ".pdf": "when are the kayak lessons", ".docx": "how much is a bike rental per day",
    ".pptx": "how long does ski tuning take", ".xlsx": "what does a locker cost at the climbing gym",
    ".html": "when do snowshoe tours leave", ".md": "how much does ski waxing cost",
    ".txt": "how long does a tent mesh repair take", ".csv": "where can I buy a fishing licence",
}


def write_all(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for suffix, (title, body) in FACTS.items():
        WRITERS[suffix](directory / f"{title.lower().replace(' ', '-')}{suffix}", title, body)
