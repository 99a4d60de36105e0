"""Prompts of the Open Arabic LLM Leaderboard v2 benchmarks, for lm-eval: the strings lighteval 0.13.0 feeds a model.

lighteval's Arabic tasks (`lighteval/tasks/multilingual/tasks/arabic.py`) build a query that starts with an Arabic
instruction. Its prompt manager (`lighteval/tasks/prompt_manager.py`) then writes the user's text in one of two modes:
- chat (the default whenever the tokenizer has a chat template: `lighteval/models/utils.py`, `uses_chat_template`; the
  leaderboard's v2 runs and the authors' `override_chat_template=True`): the instruction, then the rest of the query
  with surrounding whitespace stripped, as the one user turn (`_prepare_chat_template`); the model's chat template and
  its generation prompt wrap it (lm-eval's `--apply_chat_template`);
- plain text: the instruction, a blank line, and the stripped rest (`_prepare_plain_text`: `"\n\n".join`).
Each `*_text` below is the chat-mode user turn; each `*_text_plain` the plain-text context (the `_plain` task groups).
The continuation is the option key (an Arabic letter or a number) right after "الإجابة:", with no space in between
(`target_delimiter: ""` in our YAMLs). Accuracy is length-normalised log-likelihood (lighteval's `LogProbCharNorm`,
lm-eval's `acc_norm`). `fixtures/lighteval_strings.json` holds what lighteval itself builds for the fixture rows, in
both modes; a test compares."""

AR_LETTERS = ["أ", "ب", "ج", "د", "هـ"]
MCQ = "السؤال التالي هو سؤال متعدد الإختيارات. اختر الإجابة الصحيحة:\n\n"

LATIN_TO_AR = dict(zip("ABCDE", AR_LETTERS))

def layout(instruction: str, query: str, chat: bool) -> str:
    "lighteval's user text of a 0-shot query that starts with its instruction: chat mode joins the two, plain text puts a blank line between."
    rest = query[len(instruction):].strip() if query.startswith(instruction) else query
    return instruction + ("" if chat else "\n\n") + rest

# AlGhafa native (OALL/AlGhafa-Arabic-LLM-Benchmark-Native): query, sol1..sol5 (as many as the subset has), label
ALGHAFA = "الأسئلة التالية هي أسئلة متعددة الإختيارات مع الجواب الصحيح\n\n"

def _sols(doc): return [doc[f"sol{i}"] for i in range(1, 6) if f"sol{i}" in doc]

def _alghafa(doc):
    return ALGHAFA, f"{ALGHAFA}السؤال: {doc['query']}\n" + "".join(f"{i}) {c}\n" for i, c in enumerate(_sols(doc))) + "الإجابة:"

def alghafa_text(doc): return layout(*_alghafa(doc), chat=True)
def alghafa_text_plain(doc): return layout(*_alghafa(doc), chat=False)

def alghafa_choices(doc): return [str(i) for i in range(len(_sols(doc)))]

def alghafa_target(doc): return int(doc["label"])

# ArabicMMLU (MBZUAI/ArabicMMLU) and MadinahQA (MBZUAI/MadinahQA): Question, Context, Option 1..5, Answer Key (A..E).
# An empty or null option is left out, and every present option keeps its own letter (lighteval's `arabic_mmlu_pfn`
# and `madinah_qa_pfn` map A..E to أ..هـ by position in the row): with option 2 empty the keys are أ، ج، د.
def _options(doc):
    return [(k, doc.get(f"Option {i + 1}")) for i, k in enumerate("ABCDE") if doc.get(f"Option {i + 1}")]

def _lettered(opts): return "".join(f"{LATIN_TO_AR[k]}. {o}\n" for k, o in opts)

def _mmlu(doc): return MCQ, f"{MCQ}{doc['Question']}\n" + _lettered(_options(doc)) + "الإجابة:"

def mmlu_text(doc): return layout(*_mmlu(doc), chat=True)
def mmlu_text_plain(doc): return layout(*_mmlu(doc), chat=False)

MADINAH = "بناءً على السياق أدناه، اختر الإجابة الصحيحة للسؤال التالي من قائمة الأجوبة:\n\n"

def _madinah(doc):  # a missing context is written as lighteval writes it: the null value as text
    return MADINAH, f"{MADINAH}\nالسياق:\n{doc.get('Context')}\nالسؤال:\n{doc['Question']}\n" + _lettered(_options(doc)) + "الإجابة:"

def madinah_text(doc): return layout(*_madinah(doc), chat=True)
def madinah_text_plain(doc): return layout(*_madinah(doc), chat=False)

def lettered_choices(doc): return [LATIN_TO_AR[k] for k, _ in _options(doc)]

def lettered_target(doc): return [k for k, _ in _options(doc)].index(doc["Answer Key"])


# EXAMS (OALL/Arabic_EXAMS): question, A, B, C, D, answer (A..D), subject
def _exams(doc):
    instr = f"الأسئلة التالية هي أسئلة متعددة الإختيارات مع الجواب الصحيح حول {doc['subject'].replace('_', ' ')}. \n\n"
    opts = [f" {AR_LETTERS[i]}) {doc[k]}\n" for i, k in enumerate("ABCD")]
    return instr, f"{instr}السؤال: {doc['question']}\n" + "\n".join(opts) + "\nالإجابة:"

def exams_text(doc): return layout(*_exams(doc), chat=True)
def exams_text_plain(doc): return layout(*_exams(doc), chat=False)

def exams_target(doc): return "ABCD".index(doc["answer"])

# AraTrust (asas-ai/AraTrust-categorized): Question, A, B, C (each already prefixed with its letter), Answer (أ/ب/ج)
ARATRUST = "السؤال التالي هو سؤال متعدد الإختيارات. اختر الإجابة الصحيحة: أ، ب أو ج. \n\n"

def _aratrust(doc): return ARATRUST, f"{ARATRUST}{doc['Question']}\n" + "".join(f"{doc[k]}\n" for k in "ABC") + "الإجابة:"

def aratrust_text(doc): return layout(*_aratrust(doc), chat=True)
def aratrust_text_plain(doc): return layout(*_aratrust(doc), chat=False)

def aratrust_target(doc): return AR_LETTERS.index(doc["Answer"])

# ArbMMLU-HT (MBZUAI/human_translated_arabic_mmlu): question, choices (list), answer (index)
def _mmlu_ht(doc): return MCQ, f"{MCQ}{doc['question']}\n" + "".join(f"{i}. {c}\n" for i, c in enumerate(doc["choices"], 1)) + "الإجابة:"

def mmlu_ht_text(doc): return layout(*_mmlu_ht(doc), chat=True)
def mmlu_ht_text_plain(doc): return layout(*_mmlu_ht(doc), chat=False)

def mmlu_ht_choices(doc): return [str(i) for i in range(1, len(doc["choices"]) + 1)]

# ALRAGE (OALL/ALRAGE): question, candidates (retrieved passages: a list or one newline-separated string), gold_answer
ALRAGE = "بناءً على السياقات المقترحة التالية، اجب عن السؤال التالي"

def _candidates(c):
    return [str(x).strip() for x in c if x] if isinstance(c, list) else [x.strip() for x in str(c).split("\n") if x.strip()]

def alrage_query(doc):  # lighteval's `Doc.query`, which its judge is shown as the question
    return f"{ALRAGE}\n\nالسؤال:\n{doc['question']}\n\nالسياقات المقترحة:\n{', '.join(_candidates(doc['candidates']))}\n"

def alrage_text(doc): return layout(ALRAGE, alrage_query(doc), chat=True)
def alrage_text_plain(doc): return layout(ALRAGE, alrage_query(doc), chat=False)
