"""Prompts of the Open Arabic LLM Leaderboard v2 benchmarks, for lm-eval: the strings lighteval 0.13.0 feeds a model.

lighteval's Arabic tasks (`lighteval/tasks/multilingual/tasks/arabic.py`) build a query that starts with an Arabic
instruction; its prompt manager then lays out plain text as the instruction, a blank line, and the rest of the query
with surrounding whitespace stripped (`PromptManager._prepare_plain_text`). The continuation is the option key (an
Arabic letter or a number) right after "الإجابة:", with no space in between (`target_delimiter: ""` in our YAMLs).
Accuracy is length-normalised log-likelihood (lighteval's `LogProbCharNorm`, lm-eval's `acc_norm`).
`fixtures/lighteval_strings.json` holds what lighteval itself builds for the fixture rows; a test compares."""

AR_LETTERS = ["أ", "ب", "ج", "د", "هـ"]
MCQ = "السؤال التالي هو سؤال متعدد الإختيارات. اختر الإجابة الصحيحة:\n\n"

def layout(instruction: str, query: str) -> str:
    "lighteval's plain-text layout of a 0-shot query that starts with its instruction."
    rest = query[len(instruction):].strip() if query.startswith(instruction) else query
    return instruction + "\n\n" + rest

# AlGhafa native (OALL/AlGhafa-Arabic-LLM-Benchmark-Native): query, sol1..sol5 (as many as the subset has), label
ALGHAFA = "الأسئلة التالية هي أسئلة متعددة الإختيارات مع الجواب الصحيح\n\n"

def _sols(doc): return [doc[f"sol{i}"] for i in range(1, 6) if f"sol{i}" in doc]

def alghafa_text(doc):
    q = f"{ALGHAFA}السؤال: {doc['query']}\n" + "".join(f"{i}) {c}\n" for i, c in enumerate(_sols(doc))) + "الإجابة:"
    return layout(ALGHAFA, q)

def alghafa_choices(doc): return [str(i) for i in range(len(_sols(doc)))]

def alghafa_target(doc): return int(doc["label"])

# ArabicMMLU (MBZUAI/ArabicMMLU) and MadinahQA (MBZUAI/MadinahQA): Question, Context, Option 1..5, Answer Key (A..E)
def _options(doc):
    return [(k, doc.get(f"Option {i + 1}")) for i, k in enumerate("ABCDE") if doc.get(f"Option {i + 1}")]

def _lettered(opts): return "".join(f"{AR_LETTERS[i]}. {o}\n" for i, (_, o) in enumerate(opts))

def mmlu_text(doc):
    return layout(MCQ, f"{MCQ}{doc['Question']}\n" + _lettered(_options(doc)) + "الإجابة:")

MADINAH = "بناءً على السياق أدناه، اختر الإجابة الصحيحة للسؤال التالي من قائمة الأجوبة:\n\n"

def madinah_text(doc):  # a missing context is written as lighteval writes it: the null value as text
    return layout(MADINAH, f"{MADINAH}\nالسياق:\n{doc.get('Context')}\nالسؤال:\n{doc['Question']}\n" + _lettered(_options(doc)) + "الإجابة:")

def lettered_choices(doc): return AR_LETTERS[:len(_options(doc))]

def lettered_target(doc): return [k for k, _ in _options(doc)].index(doc["Answer Key"])


# EXAMS (OALL/Arabic_EXAMS): question, A, B, C, D, answer (A..D), subject
def exams_text(doc):
    instr = f"الأسئلة التالية هي أسئلة متعددة الإختيارات مع الجواب الصحيح حول {doc['subject'].replace('_', ' ')}. \n\n"
    opts = [f" {AR_LETTERS[i]}) {doc[k]}\n" for i, k in enumerate("ABCD")]
    return layout(instr, f"{instr}السؤال: {doc['question']}\n" + "\n".join(opts) + "\nالإجابة:")

def exams_target(doc): return "ABCD".index(doc["answer"])

# AraTrust (asas-ai/AraTrust-categorized): Question, A, B, C (each already prefixed with its letter), Answer (أ/ب/ج)
ARATRUST = "السؤال التالي هو سؤال متعدد الإختيارات. اختر الإجابة الصحيحة: أ، ب أو ج. \n\n"

def aratrust_text(doc):
    return layout(ARATRUST, f"{ARATRUST}{doc['Question']}\n" + "".join(f"{doc[k]}\n" for k in "ABC") + "الإجابة:")

def aratrust_target(doc): return AR_LETTERS.index(doc["Answer"])

# ArbMMLU-HT (MBZUAI/human_translated_arabic_mmlu): question, choices (list), answer (index)
def mmlu_ht_text(doc):
    return layout(MCQ, f"{MCQ}{doc['question']}\n" + "".join(f"{i}. {c}\n" for i, c in enumerate(doc["choices"], 1)) + "الإجابة:")

def mmlu_ht_choices(doc): return [str(i) for i in range(1, len(doc["choices"]) + 1)]

# ALRAGE (OALL/ALRAGE): question, candidates (retrieved passages: a list or one newline-separated string), gold_answer
ALRAGE = "بناءً على السياقات المقترحة التالية، اجب عن السؤال التالي"

def _candidates(c):
    return [str(x).strip() for x in c if x] if isinstance(c, list) else [x.strip() for x in str(c).split("\n") if x.strip()]

def alrage_query(doc):  # lighteval's `Doc.query`, which its judge is shown as the question
    return f"{ALRAGE}\n\nالسؤال:\n{doc['question']}\n\nالسياقات المقترحة:\n{', '.join(_candidates(doc['candidates']))}\n"

def alrage_text(doc): return layout(ALRAGE, alrage_query(doc))
