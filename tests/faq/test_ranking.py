"""The FAQ ranker: tokenising and stemming, BM25 ordering, the question-field boost, scope and the threshold."""

import math

from rapport.faq.ranking import CONFIDENCE_THRESHOLD, K1, build_index, idf, rank, stem, tokenize


def _entry(pk, question, answer, **extra):
    return {"id": pk, "question": question, "answer": answer, "job_id": None, "department": "", **extra}


CORPUS = [
    _entry(1, "How long does the interview process take?", "Usually three weeks, with three interviews."),
    _entry(2, "Can I work remotely?", "Most roles are hybrid; some are fully remote."),
    _entry(3, "Do you publish salary ranges?", "Yes, every job posting shows its salary range."),
    _entry(4, "Do you sponsor visas?", "We sponsor work visas for engineering roles."),
    _entry(5, "What benefits do you offer?", "Health insurance, holidays and a learning budget."),
]


def test_tokenize_lowercases_strips_punctuation_stop_words_and_suffixes():
    assert tokenize("How LONG does the Interview-Process take?!") == ["long", "interview", "process", "take"]
    assert tokenize("Interviews, interviewing, interviewed") == ["interview", "interview", "interview"]
    assert tokenize("Salaries & benefits — café") == ["salary", "benefit", "cafe"]
    assert stem("processes") == "process" and stem("status") == "status" and stem("planned") == "plan"


def test_idf_follows_the_bm25_formula():
    index = build_index(CORPUS)
    # "sponsor" is in one entry of five: log(1 + (5 - 1 + 0.5) / (1 + 0.5))
    assert math.isclose(idf(index, "sponsor"), math.log(1 + 4.5 / 1.5))
    # "three" is in one entry too, twice: documents are counted, not occurrences
    assert math.isclose(idf(index, "three"), idf(index, "sponsor"))
    assert idf(index, "sponsor") < idf(index, "unknownword")


def test_a_relevant_entry_beats_irrelevant_ones():
    index = build_index(CORPUS)
    hits = rank(index, "how many interviews are there in the process?")
    assert hits[0].id == 1
    assert all(hit.score < hits[0].score for hit in hits[1:])
    assert rank(index, "visa sponsorship for engineers")[0].id == 4
    assert rank(index, "What is the salary?")[0].id == 3


def test_a_match_in_the_question_outranks_the_same_match_in_an_answer():
    index = build_index(
        [
            _entry(1, "Where is the office?", "Parking is available next door."),
            _entry(2, "Is there parking?", "Yes, next to the office."),
        ]
    )
    hits = rank(index, "parking")
    assert [hit.id for hit in hits] == [2, 1]


def test_term_frequency_saturates_with_k1():
    index = build_index([_entry(1, "remote", "x"), _entry(2, "remote remote remote remote", "x"), _entry(3, "a", "b")])
    once, many = sorted(rank(index, "remote"), key=lambda hit: hit.id)
    # Four times the word gives less than (k1 + 1) times the single-occurrence score, despite the longer field.
    assert once.score < many.score < once.score * (K1 + 1)


def test_confidence_separates_known_questions_from_unknown_ones():
    index = build_index(CORPUS)
    covered = rank(index, "Can I work remotely?")[0]
    assert covered.id == 2 and covered.confidence >= CONFIDENCE_THRESHOLD
    # Shares only "work" with the FAQ; "parking" and "bicycles" appear nowhere, so the match is weak.
    weak = rank(index, "Is there parking for bicycles at work?")
    assert weak and all(hit.confidence < CONFIDENCE_THRESHOLD for hit in weak)
    assert rank(index, "the and of") == []
    assert 0 < covered.confidence <= 1


def test_scoped_entries_only_answer_within_their_job_or_department():
    index = build_index(
        [
            _entry(1, "Is there an on-call rotation?", "Yes, one week in six.", job_id=7),
            _entry(2, "Is there an on-call rotation?", "No on-call for designers.", department="Design"),
            _entry(3, "Where do I send my portfolio?", "Attach it to your application."),
        ]
    )
    assert rank(index, "on-call rotation") == []
    assert [hit.id for hit in rank(index, "on-call rotation", job_ids={7})] == [1]
    assert [hit.id for hit in rank(index, "on-call rotation", departments={"design"})] == [2]
    assert [hit.id for hit in rank(index, "portfolio", job_ids={7})] == [3]
