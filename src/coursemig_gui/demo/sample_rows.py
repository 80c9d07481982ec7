"""The sample rows: a deterministic catalogue generated from a seed, scaling to millions."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from coursemig_gui.demo.nasty_cases import (
    NASTY_CASES,
    NASTY_MIN_COURSES,
)

DEFAULT_COURSES = 3547

# -- row generation ------------------------------------------------------------------------------

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# every two-character base-62 string: a pid is built from a few lookups, not a digit loop
_PAIRS = [a + b for a in _BASE62 for b in _BASE62]


# Real-looking subject codes first; the nasty courses use the first four.
_SUBJECTS = (
    ("ACAN", "Canadian Studies"), ("CSC", "Computer Science"), ("FRAN", "Études françaises"),
    ("ENGL", "English"), ("MATH", "Mathematics"), ("STAT", "Statistics"), ("PHYS", "Physics"),
    ("CHEM", "Chemistry"), ("BIOL", "Biology"), ("ECON", "Economics"), ("HIST", "History"),
    ("PHIL", "Philosophy"), ("PSYC", "Psychology"), ("SENG", "Software Engineering"),
    ("ECE", "Electrical and Computer Engineering"), ("GEOG", "Geography"),
    ("ANTH", "Anthropology"), ("ART", "Visual Arts"), ("MUS", "Music"), ("THEA", "Theatre"),
    ("LING", "Linguistics"), ("JAPA", "Japanese (日本語)"), ("CHIN", "Chinese (中文)"),
    ("GMST", "Germanic Studies (Ü, ß)"), ("ES", "Environmental Studies"), ("POLI", "Political Science"),
    ("SOCI", "Sociology"), ("EOS", "Earth and Ocean Sciences"), ("ASTR", "Astronomy"),
    ("MEDI", "Medieval Studies"), ("NURS", "Nursing"), ("EDCI", "Curriculum & Instruction"),
)  # fmt: skip

_TOPICS = (
    "Database Systems", "Operating Systems", "Algorithms", "Linear Algebra", "Organic Chemistry",
    "Canadian Literature", "Macroeconomics", "Quantum Mechanics", "Ethics", "Cell Biology",
    "Data Structures", "Compilers", "Statistical Inference", "Human Geography", "Jazz Harmony",
    "Stagecraft", "Phonology", "Medieval Europe", "Climate Systems", "Public Policy",
    "Numerical Analysis", "Computer Networks", "Molecular Genetics", "Photography",
)  # fmt: skip
_TITLE_FORMS = (
    "Introduction to {}", "Advanced {}", "Topics in {}", "{} I", "{} II", "Seminar in {}",
    "Principles of {}", "{}: Theory and Practice", "Special Topics: {}",
)  # fmt: skip
_FRAGMENTS = (
    "with emphasis on problem solving", "including laboratory work", 'the so-called "classical" '
    "approach", "case studies, readings, and discussion", "historical context, methods, and "
    "current debates", "group projects; weekly reports", "both theory & practice",
    "numerical methods (with Python)", "field trips, where possible", "reading in the original "
    "language: français, español, Deutsch",
)  # fmt: skip
_NOTES = (
    "Credit will be granted for only one of {0}, {1}.",
    "Prerequisite: {0} with a grade of C+ or better.",
    "Students with credit in {0} cannot take this course for further credit.",
    "Offered in alternate years.",
    'Formerly "{0}".',
)  # fmt: skip
_CREDITS = ("1.5", "1.5", "1.5", "3.0", "0.5", "1.0", None)
_HOURS = ("3-0-0", "3-1-0", "3-2-0", "2-0-1", "0-3-0", None)
_TERMS = ("202309", "202401", "202405", "202409")
_DAY_SETS = ("mr", "tw", "twf", "mwr", "f", "mtwrf", "s", "")
_STARTS = ("0830", "0930", "1030", "1130", "1230", "1330", "1430", "1530", "1630", "1830")
_BUILDINGS = (
    ("ECS", "Engineering & Computer Science Building"), ("CLE", "Clearihue Building"),
    ("DTB", "David Turpin Building"), ("ELL", "Elliott Building"), ("MAC", "MacLaurin Building"),
    ("HHB", "Hickman Building"), ("COR", "Cornett Building"), ("BEC", "Bob Wright Centre"),
)  # fmt: skip
_INSTRUCTORS = (
    "Ada Lovelace", "Alan Turing", "Grace Hopper", "Émilie du Châtelet", "Sofía Kovalévskaya",
    "Zoë O'Brien", "李明", "Ngozi Okonkwo", "Søren Kierkegaard", "José Martínez-García", None,
)  # fmt: skip
_SCHEDULE_TYPES = (("A", "Lecture"), ("B", "Lab"), ("T", "Tutorial"))
_CREDS = ("BA", "BSc", "BEng", "BFA", "MSc", "MA", "PhD", "Minor", "Certificate")


@dataclass(frozen=True)
class _Sizes:
    programs: int
    meeting_times: int
    meeting_locations: int
    courses: int
    degrees: int
    specializations: int


def _sizes(courses: int) -> _Sizes:
    # shaped like a university: ~1 program per 40 courses, a degree per 10, and so on; the
    # lower bounds keep the nasty rows' foreign keys valid at tiny counts
    programs = max(len(_SUBJECTS), min(courses // 40, 9000))
    return _Sizes(
        programs=programs,
        meeting_times=max(8, min(courses // 5, 50_000)),
        meeting_locations=max(8, min(courses // 10, 20_000)),
        courses=courses,
        degrees=max(3, courses // 10),
        specializations=max(2, courses // 20),
    )


def _program_code(i: int) -> str:
    return _SUBJECTS[i][0] if i < len(_SUBJECTS) else f"P{i:04d}"


def _meeting_time_slug(i: int) -> str:
    return "202309-mwr-1030-1120" if i == 0 else f"mt{i:06d}"


def _location_slug(i: int) -> str:
    return f"loc{i:06d}"


def _degree_code(i: int) -> str:
    return "BA-GENERAL" if i == 0 else f"DEG{i:06d}"


def _pid(salt: int, i: int, pairs: int) -> str:
    """Course ``i``'s id: 6 scrambled characters, then ``i`` in base 62, fixed width.

    Unique because of the tail; the scrambled head makes key order differ from insert order, as
    in the user's data. Generated ids are 10+ characters, never equal to a nasty course's 9.
    Called for every course in three passes, so it is kept to a multiply and a few lookups.
    """
    if i < NASTY_MIN_COURSES:
        return _NASTY_PIDS[i]
    h = ((i * 0x9E3779B1) ^ salt) * 0x85EBCA6B
    head = f"{_PAIRS[h % 3844]}{_PAIRS[(h >> 16) % 3844]}{_PAIRS[(h >> 32) % 3844]}"
    if pairs == 2:
        return f"{head}{_PAIRS[i // 3844]}{_PAIRS[i % 3844]}"
    tail = ""
    for _ in range(pairs):
        i, r = divmod(i, 3844)
        tail = _PAIRS[r] + tail
    return head + tail


_NASTY_PIDS = ("ByS23Pp7E", "Hk7bQp2Lx", "r1Xy9Zt0Q", "Zq0Pp4Mm1")


def _pid_pairs(courses: int) -> int:
    pairs = 2
    while 3844**pairs < courses:
        pairs += 1
    return pairs


# sections per course, by random byte: 0-2, 1 on average (not every course runs every term)
_SECTION_COUNTS = bytes((0, 0, 1, 1, 1, 1, 2, 2)[b & 7] for b in range(256))


def _nasty_course(i: int) -> tuple:
    by_key: dict[str, dict[str, str | None]] = {}
    for case in NASTY_CASES:
        if case.table == "courses_course":
            by_key.setdefault(case.key, {})[case.column] = case.value
    pid = _NASTY_PIDS[i]
    values = by_key[pid]
    # (slug, program, course_number, title, credit, hours, description, notes, link)
    base = (
        ("acan225", "ACAN", "225", "Introduction to the Arts of Canada", "3.0", "3-0-0", None, None),
        ("csc370", "CSC", "370", "Database Systems", "1.5", "3-1-0", None, None),
        ("fran100", "FRAN", "100", None, None, None, None, None),
        ("engl201", "ENGL", "201", None, None, None, None, None),
    )[i]  # fmt: skip
    slug, program, number, title, credit, hours, description, notes = base
    return (
        pid,
        slug,
        number,
        values.get("title", title),
        values.get("credit", credit),
        values.get("hours", hours),
        values.get("description", description),
        values.get("notes", notes),
        None if i == 2 else f"https://calendar.example.edu/courses/{pid}",
        program,
    )


_NASTY_SLUGS = {"acan225", "csc370", "fran100", "engl201"}

# (table, columns) in load order: parents before children
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "courses_program": ("subject_code", "subject"),
    "courses_meetingtime": (
        "slug", "term", "start", "end", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday",
    ),
    "courses_meetinglocation": ("slug", "building", "room"),
    "courses_course": (
        "pid", "slug", "course_number", "title", "credit", "hours", "description", "notes", "link",
        "program_id",
    ),
    "courses_section": (
        "crn", "term", "sequence_number", "schedule_type", "instructor", "max_enrollment",
        "enrollment", "course_id", "meeting_location_id", "meeting_time_id",
    ),
    "courses_coursesectionlink": ("id", "type", "course_id"),
    "courses_coursesectionlink_sections": ("id", "coursesectionlink_id", "section_id"),
    "courses_degree": (
        "code", "cred", "description", "link", "requirements", "notes", "program_id",
    ),
    "courses_specialization": ("id", "title", "requirements", "notes", "degree_id"),
}  # fmt: skip


class _Generator:
    """Streams every table's rows; each table has its own random stream, so one table's rows
    do not depend on how many rows another table has."""

    def __init__(self, courses: int, seed: int) -> None:
        if courses < 0:
            raise ValueError("courses must be 0 or more")
        self.seed = seed
        self.size = _sizes(courses)
        self.pid_pairs = _pid_pairs(courses)
        self.salt = random.Random(seed).getrandbits(32)
        self._section_counts: bytes | None = None

    def _rng(self, stream: int) -> random.Random:
        return random.Random(self.seed * 1009 + stream)

    def section_counts(self) -> bytes:
        """Sections per course, made once (a byte per course) and shared by the sections and
        the links passes; randbytes + translate keep it fast at a million courses."""
        if self._section_counts is None:
            counts = bytearray(self._rng(8).randbytes(self.size.courses).translate(_SECTION_COUNTS))
            for i in range(min(2, self.size.courses)):
                counts[i] = 2  # the first nasty courses have a lecture + lab link
            self._section_counts = bytes(counts)
        return self._section_counts

    def programs(self) -> Iterator[tuple]:
        for i in range(self.size.programs):
            if i < len(_SUBJECTS):
                yield _SUBJECTS[i]
            else:
                yield (_program_code(i), f"Program {i} — interdisciplinary")

    def meeting_times(self) -> Iterator[tuple]:
        rng = self._rng(1)
        # the reserved word `end` with a value, and a to-be-announced slot with NULL times
        yield ("202309-mwr-1030-1120", "202309", "1030", "1120",
               True, False, True, True, False, False, False)  # fmt: skip
        yield (_meeting_time_slug(1), "202401", None, None, *([False] * 7))
        for i in range(2, self.size.meeting_times):
            start = rng.choice(_STARTS)
            days = rng.choice(_DAY_SETS)
            end = f"{int(start[:2]) + 1:02d}{rng.choice(('20', '50'))}"
            yield (
                _meeting_time_slug(i),
                rng.choice(_TERMS),
                start,
                end,
                "m" in days,
                "t" in days,
                "w" in days,
                "r" in days,
                "f" in days,
                "s" in days,
                False,
            )

    def meeting_locations(self) -> Iterator[tuple]:
        rng = self._rng(2)
        yield (_location_slug(0), None, None)  # online: no building, no room
        for i in range(1, self.size.meeting_locations):
            code, name = rng.choice(_BUILDINGS)
            building = name if rng.random() < 0.9 else None
            yield (_location_slug(i), building, f"{code} {rng.randrange(100, 700)}")

    def courses(self) -> Iterator[tuple]:
        rng = self._rng(3)
        pool_rng = self._rng(4)
        # pools built once: per-row work stays a few random picks, so 1M courses stay quick
        titles = [pool_rng.choice(_TITLE_FORMS).format(t) for t in _TOPICS for _ in range(4)]
        descriptions = []
        for _ in range(512):
            parts = pool_rng.sample(_FRAGMENTS, 3)
            descriptions.append(
                f"<p>A study of {pool_rng.choice(_TOPICS).lower()}, {parts[0]}; "
                f"{parts[1]}, and {parts[2]}.</p>"
            )
        programs = self.size.programs
        codes = [_program_code(p) for p in range(programs)]
        lower_codes = [code.lower() for code in codes]
        pairs = self.pid_pairs
        salt = self.salt
        for i in range(min(NASTY_MIN_COURSES, self.size.courses)):
            yield _nasty_course(i)
        for i in range(NASTY_MIN_COURSES, self.size.courses):
            p = i % programs
            code = codes[p]
            number = str(100 + i // programs)
            slug = f"{lower_codes[p]}{number}"
            if slug in _NASTY_SLUGS:  # generated numbers are all digits, so this stays unique
                number += "B"
                slug += "b"
            pid = _pid(salt, i, pairs)
            r = rng.getrandbits(16)
            notes = None
            if r & 3 == 0:
                notes = _NOTES[(r >> 2) % len(_NOTES)].format(
                    f"{code}{number}", f"{codes[(p + 1) % programs]}{number}"
                )
            yield (
                pid,
                slug,
                number,
                titles[(r >> 5) % len(titles)],
                _CREDITS[(r >> 9) % len(_CREDITS)],
                _HOURS[(r >> 12) % len(_HOURS)],
                descriptions[rng.getrandbits(9)] if r & 0x8000 or r & 0x4000 else None,
                notes,
                f"https://calendar.example.edu/courses/{pid}",
                code,
            )

    def sections(self) -> Iterator[tuple]:
        rng = self._rng(5)
        # lookups made once; per row only two small draws (ints under 2**30 are cheap)
        time_slugs = [_meeting_time_slug(i) for i in range(self.size.meeting_times)]
        location_slugs = [_location_slug(i) for i in range(self.size.meeting_locations)]
        kinds = [
            (kind, [f"{letter}{n:02d}" for n in range(1, 5)]) for letter, kind in _SCHEDULE_TYPES
        ]
        capacities = (20, 30, 45, 60, 120, 240, 300, 25)
        times, locations = len(time_slugs), len(location_slugs)
        salt, pairs = self.salt, self.pid_pairs
        crn = 10000
        for i, count in enumerate(self.section_counts()):
            if not count:
                continue
            pid = _pid(salt, i, pairs)
            for k in range(count):
                kind, sequences = kinds[k % 3]
                r = rng.getrandbits(30)
                where = rng.getrandbits(30)
                capacity = capacities[r & 7]
                yield (
                    str(crn),
                    _TERMS[(r >> 3) & 3],
                    sequences[(r >> 5) & 3],
                    kind,
                    _INSTRUCTORS[(r >> 7) % len(_INSTRUCTORS)],
                    capacity,
                    (r >> 12) % (capacity + 1),
                    pid,
                    None if where & 15 == 0 else location_slugs[(where >> 4) % locations],
                    None if where >> 26 == 0 else time_slugs[(where >> 8) % times],
                )
                crn += 1

    def course_section_links(self) -> Iterator[tuple]:
        link_id = 0
        salt, pairs = self.salt, self.pid_pairs
        for i, count in enumerate(self.section_counts()):
            if count >= 2:  # lecture + lab taken together
                link_id += 1
                yield (link_id, "lec+lab", _pid(salt, i, pairs))

    def course_section_link_sections(self) -> Iterator[tuple]:
        counts = self.section_counts()
        crn, link_id, row_id = 10000, 0, 0
        for count in counts:
            if count >= 2:
                link_id += 1
                for k in range(count):
                    row_id += 1
                    yield (row_id, link_id, str(crn + k))
            crn += count

    def degrees(self) -> Iterator[tuple]:
        rng = self._rng(6)
        programs = self.size.programs
        lines = [f"- {{}} {rng.randrange(100, 500)}, {rng.choice(_FRAGMENTS)}" for _ in range(256)]
        # a degree without a program: the nullable foreign key left NULL
        yield (_degree_code(0), "BA", "<p>General studies, no major.</p>", None,
               "Complete 60 units, including:\n- 21 units at the 300 or 400 level", None, None)  # fmt: skip
        for i in range(1, self.size.degrees):
            code = _program_code(rng.randrange(programs))
            cred = rng.choice(_CREDS)
            first = rng.getrandbits(8)
            requirements = "\n".join(lines[(first + k * 37) & 255] for k in range(first % 37 + 3))
            yield (
                _degree_code(i),
                cred,
                f'<p>The {cred} in {code}: "{rng.choice(_TOPICS)}", {rng.choice(_FRAGMENTS)}.</p>',
                f"https://calendar.example.edu/programs/{_degree_code(i)}",
                requirements.replace("{}", code),
                None if rng.random() < 0.7 else "Honours option available.",
                code,
            )

    def specializations(self) -> Iterator[tuple]:
        rng = self._rng(7)
        for i in range(1, self.size.specializations + 1):
            yield (
                i,
                f"{rng.choice(_TOPICS)} option"[:100],
                None if i % 3 == 0 else f"Take {rng.randrange(3, 9)} of the listed courses.",
                None if i % 2 else "",
                _degree_code(rng.randrange(self.size.degrees)),
            )

    def tables(self) -> Iterator[tuple[str, Iterator[tuple]]]:
        makers: dict[str, Callable[[], Iterator[tuple]]] = {
            "courses_program": self.programs,
            "courses_meetingtime": self.meeting_times,
            "courses_meetinglocation": self.meeting_locations,
            "courses_course": self.courses,
            "courses_section": self.sections,
            "courses_coursesectionlink": self.course_section_links,
            "courses_coursesectionlink_sections": self.course_section_link_sections,
            "courses_degree": self.degrees,
            "courses_specialization": self.specializations,
        }
        for table in TABLE_COLUMNS:
            yield table, makers[table]()


def sample_rows(
    courses: int = DEFAULT_COURSES, seed: int = 0
) -> Iterator[tuple[str, tuple[str, ...], Iterator[tuple]]]:
    """(table, columns, rows) for every courses_* table, parents first; rows are streamed."""
    for table, rows in _Generator(courses, seed).tables():
        yield table, TABLE_COLUMNS[table], rows
