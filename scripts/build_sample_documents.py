"""Build the non-Markdown sample help-center articles.

Writes two articles of the Trailhead Outfitters sample knowledge base into
docs/knowledge-base/ from text held in this script:

* warranty-policy.docx  (built with python-docx)
* gift-cards.pdf        (built with fpdf2, core font Helvetica, plain ASCII)

Run from anywhere with:

    /work/main/.venv/bin/python scripts/build_sample_documents.py
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.shared import Pt
from fpdf import FPDF

OUT_DIR = Path(__file__).resolve().parent.parent / "docs" / "knowledge-base"

# An article is a title, an intro paragraph and a list of sections.
# Each section is (heading, blocks); a block is ("p", text),
# ("bullets", [items]) or ("steps", [items]).

WARRANTY = {
    "title": "Warranty policy: the Trailhead Promise",
    "intro": (
        "Trailhead Outfitters stands behind the gear we sell. This article "
        "explains what our warranty covers, how long it lasts and how to "
        "make a claim if something fails."
    ),
    "sections": [
        (
            "What the warranty covers",
            [
                ("p",
                 "All Trailhead-brand products, including our own tents, packs, "
                 "down jackets and rainwear, carry a two-year warranty from the "
                 "date of purchase against defects in materials and "
                 "workmanship. Examples include seams that come apart, "
                 "delaminating waterproof fabric, broken zips that were not "
                 "forced, baffles that separate in down garments and tent poles "
                 "that crack under normal use."),
                ("p",
                 "Products from other brands are covered by their "
                 "manufacturer's own warranty, which ranges from one year to a "
                 "lifetime guarantee. We handle these claims for you during the "
                 "first 12 months after purchase and help you contact the brand "
                 "after that."),
            ],
        ),
        (
            "What is not covered",
            [
                ("bullets", [
                    "Normal wear and tear, such as abraded fabric, worn boot "
                    "soles, faded colours or reduced water repellency over time.",
                    "Damage from accidents, misuse, fire, animals or improper "
                    "care, for example machine-washing a tent or drying down "
                    "on high heat.",
                    "Items that have been altered or repaired by someone other "
                    "than Trailhead Outfitters or an authorised repair centre.",
                    "Rental equipment and items bought as used or ex-demo.",
                    "Safety equipment such as helmets, harnesses and ropes "
                    "after an impact or fall, which must be retired regardless "
                    "of visible damage.",
                ]),
            ],
        ),
        (
            "How to make a warranty claim",
            [
                ("steps", [
                    "Go to trailhead.example/warranty, or bring the item to any "
                    "Trailhead Outfitters store.",
                    "Enter your order number or upload a photo of your receipt "
                    "as proof of purchase. Account holders can select the item "
                    "from their order history.",
                    "Describe the problem and add two to four photos showing "
                    "the defect and the product label.",
                    "Wait for our assessment, which normally takes 3 business "
                    "days. We may ask you to send the item in with a free "
                    "prepaid label.",
                ]),
                ("p",
                 "Please clean items before sending them. Dirty items are "
                 "returned without assessment."),
            ],
        ),
        (
            "Repair, replacement or credit",
            [
                ("p",
                 "If your claim is approved we first try to repair the item, "
                 "because repair keeps good gear in use and out of landfill. "
                 "Repairs take 2 to 4 weeks. If a repair is not possible we "
                 "replace the item with the same or a comparable model, or "
                 "issue store credit for the price you paid. A repaired or "
                 "replacement item is covered for the rest of the original "
                 "warranty period or 90 days, whichever is longer."),
                ("p",
                 "Out of warranty? Our repair service fixes most gear at a fair "
                 "price: zip slider replacement from $18, tent pole sections "
                 "from $12 and fabric patches from $10. We always send a quote "
                 "before starting any paid repair."),
            ],
        ),
    ],
}

GIFT_CARDS = {
    "title": "Trailhead gift cards",
    "intro": (
        "A Trailhead Outfitters gift card lets friends and family choose their "
        "own gear. Our gift cards never expire and have no fees."
    ),
    "sections": [
        (
            "Buying a gift card",
            [
                ("p",
                 "Gift cards come in two formats. E-gift cards are available "
                 "in any amount from $25 to $500 and are delivered by email, "
                 "either immediately or on a date you choose up to 12 months "
                 "ahead. Physical gift cards come in a recycled-card sleeve in "
                 "values of $25, $50, $100 or $250 and ship free with Standard "
                 "shipping, or can be bought in any of our stores."),
                ("p",
                 "You can buy up to 10 gift cards per order, with a maximum "
                 "total of $2,000. Gift cards cannot be bought with another "
                 "gift card, a Rewards certificate or a promo code. For "
                 "corporate orders of more than $2,000, email "
                 "support@trailhead.example."),
            ],
        ),
        (
            "Redeeming a gift card",
            [
                ("steps", [
                    "At checkout, open the Gift cards section below the "
                    "payment options.",
                    "Enter the 16-digit card number and the 4-digit PIN. On "
                    "physical cards, gently scratch the silver panel on the "
                    "back to reveal the PIN.",
                    "Select Apply. The amount used is deducted from your "
                    "order total.",
                    "Pay any remaining balance with a card, PayPal or another "
                    "accepted method.",
                ]),
                ("p",
                 "You can combine up to 5 gift cards on one order. Gift cards "
                 "can also be used in store by showing the card or the e-gift "
                 "card email at the till. Any unused amount stays on the card "
                 "for next time."),
            ],
        ),
        (
            "Checking your balance",
            [
                ("p",
                 "Check your balance at trailhead.example/giftcard-balance "
                 "with the card number and PIN, at any store, or by asking our "
                 "chat assistant. You can also save a gift card to your account "
                 "under Account > Wallet to see its balance at a glance."),
            ],
        ),
        (
            "Lost cards, refunds and other rules",
            [
                ("bullets", [
                    "Lost or stolen cards can be replaced for the remaining "
                    "balance if you have the purchase receipt or the card was "
                    "saved to your account. Replacement takes up to 2 business "
                    "days and the old card is blocked.",
                    "If an order paid with a gift card is returned, the refund "
                    "is issued as a new e-gift card within 2 hours.",
                    "Gift cards themselves cannot be returned or exchanged and "
                    "cannot be redeemed for cash, except where the law requires "
                    "it, for example balances under $10 in California.",
                    "Gift cards are valid in US stores and on US orders placed "
                    "at trailhead.example. They cannot be used for rental "
                    "deposits.",
                    "Treat a gift card like cash. Our staff will never ask you "
                    "to pay a bill, a fine or a tax with gift cards; if anyone "
                    "does, it is a scam.",
                ]),
            ],
        ),
    ],
}


def build_docx(article: dict, path: Path) -> None:
    doc = Document()
    doc.core_properties.title = article["title"]
    doc.core_properties.author = "Trailhead Outfitters"
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)

    doc.add_heading(article["title"], level=1)
    doc.add_paragraph(article["intro"])
    for heading, blocks in article["sections"]:
        doc.add_heading(heading, level=2)
        for kind, content in blocks:
            if kind == "p":
                doc.add_paragraph(content)
            elif kind == "bullets":
                for item in content:
                    doc.add_paragraph(item, style="List Bullet")
            elif kind == "steps":
                for item in content:
                    doc.add_paragraph(item, style="List Number")
            else:
                raise ValueError(f"unknown block kind: {kind}")
    doc.save(path)


def build_pdf(article: dict, path: Path) -> None:
    pdf = FPDF(format="Letter")
    pdf.set_title(article["title"])
    pdf.set_author("Trailhead Outfitters")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    def para(text: str, size: float = 11, style: str = "", h: float = 5.5,
             indent: float = 0) -> None:
        text.encode("ascii")  # core fonts: keep the text plain ASCII
        pdf.set_font("Helvetica", style, size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, h, text, align="L",
                       new_x="LMARGIN", new_y="NEXT")

    para(article["title"], size=20, style="B", h=10)
    pdf.ln(3)
    para(article["intro"])
    for heading, blocks in article["sections"]:
        pdf.ln(5)
        para(heading, size=14, style="B", h=8)
        pdf.ln(1)
        for kind, content in blocks:
            if kind == "p":
                para(content)
                pdf.ln(2)
            elif kind == "bullets":
                for item in content:
                    para(f"- {item}", indent=4)
                    pdf.ln(1)
                pdf.ln(1)
            elif kind == "steps":
                for n, item in enumerate(content, start=1):
                    para(f"{n}. {item}", indent=4)
                    pdf.ln(1)
                pdf.ln(1)
            else:
                raise ValueError(f"unknown block kind: {kind}")
    pdf.output(str(path))


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    docx_path = OUT_DIR / "warranty-policy.docx"
    pdf_path = OUT_DIR / "gift-cards.pdf"
    build_docx(WARRANTY, docx_path)
    build_pdf(GIFT_CARDS, pdf_path)
    print(f"wrote {docx_path}")
    print(f"wrote {pdf_path}")


if __name__ == "__main__":
    main()
