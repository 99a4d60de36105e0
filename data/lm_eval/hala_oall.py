"""Prompt formats of the Open Arabic LLM Leaderboard v2 tasks that lm-eval 0.4.13 does not ship (MadinahQA, AraTrust,
ArbMMLU-HT, ALRAGE), written for lm-eval from the leaderboard's documented formats (lighteval community tasks):
an Arabic instruction, the question, the lettered or numbered options, then "الإجابة:"; scored by log-likelihood of
the option key."""

AR_LETTERS = ["أ", "ب", "ج", "د", "هـ"]
MCQ = "السؤال التالي هو سؤال متعدد الإختيارات. اختر الإجابة الصحيحة:\n\n"

# MadinahQA (MBZUAI/MadinahQA): Question, Context, Option 1..5, Answer Key (A..E)
def _madinah_options(doc):
    return [(k, doc.get(f"Option {i + 1}")) for i, k in enumerate("ABCDE") if doc.get(f"Option {i + 1}")]

def madinah_text(doc):
    opts = _madinah_options(doc)
    q = "بناءً على السياق أدناه، اختر الإجابة الصحيحة للسؤال التالي من قائمة الأجوبة:\n\n"
    q += f"\nالسياق:\n{doc.get('Context') or ''}\nالسؤال:\n{doc['Question']}\n"
    q += "".join(f"{AR_LETTERS[i]}. {o}\n" for i, (_, o) in enumerate(opts))
    return q + "الإجابة:"

def madinah_choices(doc):
    return AR_LETTERS[:len(_madinah_options(doc))]

def madinah_target(doc):
    return [k for k, _ in _madinah_options(doc)].index(doc["Answer Key"])

# AraTrust (asas-ai/AraTrust-categorized): Question, A, B, C (each already prefixed with its letter), Answer (أ/ب/ج)
def aratrust_text(doc):
    return "السؤال التالي هو سؤال متعدد الإختيارات. اختر الإجابة الصحيحة: أ، ب أو ج. \n\n" + \
        f"{doc['Question']}\n" + "".join(f"{doc[k]}\n" for k in "ABC") + "الإجابة:"

def aratrust_target(doc):
    return AR_LETTERS.index(doc["Answer"].strip())

# ArbMMLU-HT (MBZUAI/human_translated_arabic_mmlu): question, choices (list), answer (index)
def mmlu_ht_text(doc):
    return MCQ + f"{doc['question']}\n" + "".join(f"{i}. {c}\n" for i, c in enumerate(doc["choices"], 1)) + "الإجابة:"

def mmlu_ht_choices(doc):
    return [str(i) for i in range(1, len(doc["choices"]) + 1)]

# ALRAGE (OALL/ALRAGE): question, candidates (retrieved passages), gold_answer; generation
def _candidates(c):
    return [str(x).strip() for x in c if x] if isinstance(c, list) else [x.strip() for x in str(c).split("\n") if x.strip()]

def alrage_text(doc):
    return "بناءً على السياقات المقترحة التالية، اجب عن السؤال التالي\n\n" + \
        f"السؤال:\n{doc['question']}\n\nالسياقات المقترحة:\n{', '.join(_candidates(doc['candidates']))}\n"
