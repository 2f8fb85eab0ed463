"""The documents demo's content: six short reports of four pages, every figure invented.

Each page has a title, a paragraph that states its numbers, one chart (its kind named in
the data, so a page can be found as "the line chart of ...") and a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Page:
    """One report page: its title, text, chart and table."""

    title: str
    text: str
    #: "bar", "barh", "line", "pie", "scatter", "hist" or "stacked".
    chart: str
    chart_title: str
    labels: tuple[str, ...]
    #: One series per name; a pie, bar or line chart with one series has one entry.
    series: dict[str, tuple[float, ...]]
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    unit: str = ""


@dataclass(frozen=True)
class Report:
    """A PDF: its file name, title and pages."""

    file_name: str
    title: str
    pages: tuple[Page, ...] = field(default_factory=tuple)


def _rows(
    labels: tuple[str, ...], *columns: tuple[float, ...], fmt: str = "{:,.0f}"
) -> tuple[tuple[str, ...], ...]:
    """Table rows: each label with its values from ``columns``, formatted."""
    return tuple((label, *(fmt.format(c[i]) for c in columns)) for i, label in enumerate(labels))


REGIONS = ("North", "South", "East", "West", "Central")
REVENUE = (4.2, 3.1, 5.6, 2.8, 3.9)
MONTHLY = (2.9, 3.1, 3.4, 3.3, 3.8, 4.1, 4.4, 4.2, 4.6, 4.9, 5.3, 6.1)
CATEGORY_SHARE = (34.0, 22.0, 18.0, 15.0, 11.0)
CATEGORIES = ("Coffee beans", "Brewing gear", "Mugs and cups", "Pastries", "Gift cards")
VISITS = (41, 38, 45, 52, 58, 61, 57, 55, 66, 72, 80, 95)
SOURCES = ("Search", "Direct", "Social media", "Email", "Referral")
SOURCE_SHARE = (46.0, 21.0, 17.0, 9.0, 7.0)
DEVICES = ("Desktop", "Phone", "Tablet")
PAGES_PER_SESSION = (4.8, 2.9, 3.6)
KWH = (18.2, 16.9, 15.1, 12.4, 10.2, 8.8, 8.1, 8.4, 9.9, 12.6, 15.8, 17.7)
ENERGY_SOURCES = ("Grid electricity", "Rooftop solar", "Natural gas", "Heat pump")
ENERGY_SHARE = (41.0, 23.0, 24.0, 12.0)
DEGREE_DAYS = (420, 380, 330, 240, 150, 70, 40, 45, 110, 230, 340, 400)
QUESTIONS = ("Ease of ordering", "Delivery speed", "Product quality", "Support", "Value")
SCORES = (8.6, 7.2, 8.9, 7.8, 7.4)
NPS = (31, 33, 35, 34, 38, 41, 43, 42, 45, 47, 46, 49)
CHANNELS = ("Email survey", "In-app prompt", "Phone call", "In store")
CHANNEL_SHARE = (48.0, 31.0, 12.0, 9.0)
TEMP_MAX = (6.1, 7.4, 10.8, 14.2, 18.3, 21.6, 24.0, 23.5, 19.9, 14.6, 9.7, 6.8)
TEMP_MIN = (-0.8, -0.2, 2.1, 4.6, 8.3, 11.4, 13.5, 13.2, 10.4, 6.9, 3.0, 0.6)
RAIN = (62, 48, 51, 44, 57, 61, 54, 66, 58, 73, 79, 71)
WIND = ("North", "East", "South", "West")
WIND_SHARE = (18.0, 14.0, 27.0, 41.0)
DEPARTMENTS = ("Engineering", "Sales", "Support", "Finance", "Operations")
HEADCOUNT_2024 = (48, 31, 22, 9, 17)
HEADCOUNT_2025 = (61, 34, 27, 10, 19)
TURNOVER = (1.2, 0.9, 1.4, 1.1, 0.8, 1.6, 1.9, 1.3, 1.0, 0.9, 0.7, 1.1)
AGES = ("20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55+")
AGE_COUNTS = (9, 27, 34, 29, 22, 14, 9, 7)


REPORTS: tuple[Report, ...] = (
    Report(
        "quarterly-sales-report.pdf",
        "Harbor Lane Coffee: sales report 2025",
        (
            Page(
                "Revenue by region: bar chart",
                "East was the strongest region in 2025 with 5.6 million euros of revenue, ahead "
                "of North (4.2 million) and Central (3.9 million). West, at 2.8 million, grew "
                "fastest after the new stores opened in the spring.",
                "bar",
                "Revenue by region, million euros",
                REGIONS,
                {"2025": REVENUE},
                ("Region", "Revenue (M EUR)"),
                _rows(REGIONS, REVENUE, fmt="{:.1f}"),
                "M EUR",
            ),
            Page(
                "Monthly revenue: line chart",
                "Monthly revenue rose from 2.9 million euros in January to 6.1 million in "
                "December. The holiday season alone brought in 11.4 million, more than the "
                "whole first quarter.",
                "line",
                "Monthly revenue 2025, million euros",
                MONTHS,
                {"Revenue": MONTHLY},
                ("Month", "Revenue (M EUR)"),
                _rows(MONTHS[:6], MONTHLY[:6], fmt="{:.1f}"),
                "M EUR",
            ),
            Page(
                "Sales by product category: pie chart",
                "Coffee beans remain the largest category at 34 percent of sales. Brewing gear "
                "follows with 22 percent and mugs and cups with 18 percent; pastries and gift "
                "cards make up the rest.",
                "pie",
                "Share of sales by category",
                CATEGORIES,
                {"Share": CATEGORY_SHARE},
                ("Category", "Share (%)"),
                _rows(CATEGORIES, CATEGORY_SHARE),
            ),
            Page(
                "Top products table",
                "The ten best-selling products brought in 41 percent of revenue. The Ethiopia "
                "Yirgacheffe beans sold 18,400 bags, the most of any product.",
                "barh",
                "Units sold, thousands",
                (
                    "Yirgacheffe beans",
                    "House espresso",
                    "Pour-over kettle",
                    "Travel mug",
                    "Almond croissant",
                ),
                {"Units": (18.4, 15.2, 9.8, 8.7, 7.9)},
                ("Product", "Units sold", "Revenue (k EUR)"),
                (
                    ("Yirgacheffe beans", "18,400", "312"),
                    ("House espresso", "15,200", "228"),
                    ("Pour-over kettle", "9,800", "441"),
                    ("Travel mug", "8,700", "174"),
                    ("Almond croissant", "7,900", "27"),
                ),
            ),
        ),
    ),
    Report(
        "website-traffic-review.pdf",
        "Website traffic review 2025",
        (
            Page(
                "Visitors per month: line chart",
                "The shop website had 720,000 visits in 2025. Visits climbed from 41,000 in "
                "January to 95,000 in December, when the winter campaign ran.",
                "line",
                "Visits per month, thousands",
                MONTHS,
                {"Visits": VISITS},
                ("Month", "Visits (k)"),
                _rows(MONTHS[6:], VISITS[6:]),
                "k",
            ),
            Page(
                "Traffic sources: pie chart",
                "Search engines brought 46 percent of all visitors. Direct visits were 21 "
                "percent and social media 17 percent; email newsletters and referrals brought "
                "the remaining 16 percent.",
                "pie",
                "Where visitors came from",
                SOURCES,
                {"Share": SOURCE_SHARE},
                ("Source", "Share (%)"),
                _rows(SOURCES, SOURCE_SHARE),
            ),
            Page(
                "Pages per session by device: bar chart",
                "Desktop visitors read 4.8 pages per session, tablet visitors 3.6 and phone "
                "visitors 2.9. Phones are now 58 percent of visits, so the phone checkout is "
                "next year's priority.",
                "bar",
                "Pages per session",
                DEVICES,
                {"Pages": PAGES_PER_SESSION},
                ("Device", "Pages per session"),
                _rows(DEVICES, PAGES_PER_SESSION, fmt="{:.1f}"),
            ),
            Page(
                "Top landing pages table",
                "The home page was the first page of 38 percent of visits. The brewing guide "
                "drew 61,000 visitors from search, more than any product page.",
                "barh",
                "Visits as first page, thousands",
                ("Home page", "Brewing guide", "Coffee beans", "Gift cards", "Store finder"),
                {"Visits": (274, 61, 55, 32, 24)},
                ("Landing page", "Visits (k)", "Bounce rate"),
                (
                    ("Home page", "274", "31%"),
                    ("Brewing guide", "61", "44%"),
                    ("Coffee beans", "55", "27%"),
                    ("Gift cards", "32", "22%"),
                    ("Store finder", "24", "52%"),
                ),
            ),
        ),
    ),
    Report(
        "office-energy-report.pdf",
        "Energy use of the Harbor Street office",
        (
            Page(
                "Electricity use per month: line chart",
                "The office used 154 megawatt hours in 2025. Use peaked at 18.2 MWh in January "
                "and fell to 8.1 MWh in July, when the rooftop solar panels covered most of "
                "the daytime load.",
                "line",
                "Electricity use, MWh per month",
                MONTHS,
                {"Use": KWH},
                ("Month", "Use (MWh)"),
                _rows(MONTHS[:6], KWH[:6], fmt="{:.1f}"),
                "MWh",
            ),
            Page(
                "Energy by source: pie chart",
                "Grid electricity supplied 41 percent of the energy, natural gas 24 percent "
                "and rooftop solar 23 percent. The new heat pump already covers 12 percent.",
                "pie",
                "Energy by source",
                ENERGY_SOURCES,
                {"Share": ENERGY_SHARE},
                ("Source", "Share (%)"),
                _rows(ENERGY_SOURCES, ENERGY_SHARE),
            ),
            Page(
                "Heating degree days against energy use: scatter plot",
                "Each point is one month. Energy use follows heating degree days closely: "
                "every 100 degree days added about 2.6 MWh, so insulation is the best "
                "investment for the coming winter.",
                "scatter",
                "Energy use against heating degree days",
                MONTHS,
                {"Degree days": tuple(float(d) for d in DEGREE_DAYS), "Use": KWH},
                ("Month", "Degree days", "Use (MWh)"),
                _rows(MONTHS[6:], tuple(float(d) for d in DEGREE_DAYS[6:]), KWH[6:], fmt="{:.1f}"),
            ),
            Page(
                "Monthly meter readings table",
                "Meter readings for the second half of the year, with the share of solar "
                "power in each month. July had the highest solar share at 61 percent.",
                "bar",
                "Solar share of electricity, percent",
                MONTHS[6:],
                {"Solar": (61.0, 57.0, 44.0, 28.0, 14.0, 9.0)},
                ("Month", "Reading (MWh)", "Solar share"),
                (
                    ("Jul", "8.1", "61%"),
                    ("Aug", "8.4", "57%"),
                    ("Sep", "9.9", "44%"),
                    ("Oct", "12.6", "28%"),
                    ("Nov", "15.8", "14%"),
                    ("Dec", "17.7", "9%"),
                ),
            ),
        ),
    ),
    Report(
        "customer-survey-results.pdf",
        "Customer satisfaction survey 2025",
        (
            Page(
                "Scores by question: horizontal bar chart",
                "4,812 customers answered the survey. Product quality scored highest at 8.9 "
                "out of 10 and ease of ordering 8.6; delivery speed scored lowest at 7.2.",
                "barh",
                "Average score out of 10",
                QUESTIONS,
                {"Score": SCORES},
                ("Question", "Score"),
                _rows(QUESTIONS, SCORES, fmt="{:.1f}"),
            ),
            Page(
                "Net promoter score over time: line chart",
                "The net promoter score rose from 31 in January to 49 in December, the best "
                "result since the survey began. The jump in June followed the free returns "
                "policy.",
                "line",
                "Net promoter score per month",
                MONTHS,
                {"NPS": tuple(map(float, NPS))},
                ("Month", "NPS"),
                _rows(MONTHS[6:], tuple(map(float, NPS[6:]))),
            ),
            Page(
                "Response channels: pie chart",
                "Almost half of the answers, 48 percent, came through the email survey. The "
                "in-app prompt brought 31 percent, phone calls 12 percent and stores 9 percent.",
                "pie",
                "Answers by channel",
                CHANNELS,
                {"Share": CHANNEL_SHARE},
                ("Channel", "Share (%)"),
                _rows(CHANNELS, CHANNEL_SHARE),
            ),
            Page(
                "Comments by theme table",
                "Customers wrote 2,130 comments. Delivery was the most common theme, mostly "
                "about late parcels in November; praise for the coffee itself came second.",
                "bar",
                "Comments by theme",
                ("Delivery", "Coffee taste", "Packaging", "Prices", "Website"),
                {"Comments": (612.0, 548.0, 377.0, 341.0, 252.0)},
                ("Theme", "Comments", "Positive"),
                (
                    ("Delivery", "612", "22%"),
                    ("Coffee taste", "548", "91%"),
                    ("Packaging", "377", "64%"),
                    ("Prices", "341", "35%"),
                    ("Website", "252", "58%"),
                ),
            ),
        ),
    ),
    Report(
        "weather-station-summary.pdf",
        "Weather station summary 2025",
        (
            Page(
                "Temperature through the year: line chart",
                "The warmest month was July with an average high of 24.0 degrees Celsius; "
                "the coldest was January with an average low of minus 0.8 degrees.",
                "line",
                "Average daily high and low, degrees Celsius",
                MONTHS,
                {"High": TEMP_MAX, "Low": TEMP_MIN},
                ("Month", "High (C)", "Low (C)"),
                _rows(MONTHS[:6], TEMP_MAX[:6], TEMP_MIN[:6], fmt="{:.1f}"),
                "C",
            ),
            Page(
                "Rainfall per month: bar chart",
                "724 millimetres of rain fell in 2025, 6 percent more than the long-term "
                "average. November was the wettest month with 79 millimetres.",
                "bar",
                "Rainfall, millimetres per month",
                MONTHS,
                {"Rain": tuple(map(float, RAIN))},
                ("Month", "Rain (mm)"),
                _rows(MONTHS[6:], tuple(map(float, RAIN[6:]))),
            ),
            Page(
                "Wind directions: pie chart",
                "Westerly winds blew on 41 percent of days and southerly winds on 27 percent. "
                "The strongest gust, 96 kilometres per hour, came from the west in October.",
                "pie",
                "Days by wind direction",
                WIND,
                {"Share": WIND_SHARE},
                ("Direction", "Share of days (%)"),
                _rows(WIND, WIND_SHARE),
            ),
            Page(
                "Monthly records table",
                "Records set at the station in 2025: the warmest March night since 1998 and "
                "the sunniest May, with 262 hours of sunshine.",
                "bar",
                "Hours of sunshine",
                MONTHS[:6],
                {"Sunshine": (52.0, 81.0, 128.0, 176.0, 262.0, 231.0)},
                ("Record", "Value", "Date"),
                (
                    ("Warmest March night", "9.4 C", "18 Mar"),
                    ("Sunniest May", "262 h", "May"),
                    ("Strongest gust", "96 km/h", "27 Oct"),
                    ("Wettest day", "38 mm", "14 Nov"),
                    ("Coldest morning", "-7.9 C", "9 Jan"),
                ),
            ),
        ),
    ),
    Report(
        "staff-report.pdf",
        "Hiring and staff report 2025",
        (
            Page(
                "Headcount by department: stacked bar chart",
                "The company grew from 127 to 151 people in 2025. Engineering added 13 people "
                "and support 5; finance and operations stayed almost the same size.",
                "stacked",
                "People per department, 2024 and 2025",
                DEPARTMENTS,
                {
                    "2024": tuple(map(float, HEADCOUNT_2024)),
                    "2025": tuple(map(float, HEADCOUNT_2025)),
                },
                ("Department", "2024", "2025"),
                _rows(
                    DEPARTMENTS,
                    tuple(map(float, HEADCOUNT_2024)),
                    tuple(map(float, HEADCOUNT_2025)),
                ),
            ),
            Page(
                "Staff turnover per month: line chart",
                "Monthly staff turnover averaged 1.2 percent. It was highest in July at 1.9 "
                "percent, when three engineers left for the same start-up.",
                "line",
                "People leaving, percent of staff per month",
                MONTHS,
                {"Turnover": TURNOVER},
                ("Month", "Turnover (%)"),
                _rows(MONTHS[6:], TURNOVER[6:], fmt="{:.1f}"),
                "%",
            ),
            Page(
                "Age distribution: histogram",
                "Most staff are between 25 and 39 years old; the median age is 34. Seven "
                "people are 55 or older, and two of them retire next year.",
                "bar",
                "People by age group",
                AGES,
                {"People": tuple(map(float, AGE_COUNTS))},
                ("Age group", "People"),
                _rows(AGES, tuple(map(float, AGE_COUNTS))),
            ),
            Page(
                "Open positions table",
                "Eleven positions are open. Engineering needs four developers; the new "
                "warehouse in Rotterdam needs a site manager by March.",
                "barh",
                "Open positions by department",
                DEPARTMENTS,
                {"Open": (4.0, 2.0, 2.0, 1.0, 2.0)},
                ("Position", "Department", "Location"),
                (
                    ("Backend developer (2)", "Engineering", "Remote"),
                    ("Mobile developer (2)", "Engineering", "Lisbon"),
                    ("Account manager (2)", "Sales", "Hamburg"),
                    ("Support lead", "Support", "Lisbon"),
                    ("Site manager", "Operations", "Rotterdam"),
                ),
            ),
        ),
    ),
)
