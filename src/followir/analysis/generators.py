"""What the ablation asks a text generator, with the FollowIR paper's prompts.

The prompts are quoted from the FollowIR paper's appendix "Prompts Used" (arXiv
2403.15246): "Full Instructions to Short Instructions" turns a narrative into a ~10-word
task-format command, "Short Instructions to Keywords" extracts one or two keywords.  The
placeholder ``FILL_TEXT_HERE`` is the paper's own.

The generators themselves (OpenAI-compatible endpoint, local transformers model, on-disk
cache, spec parsing) are shared with synthesis in `followir.models.generators`; what is
ablation-specific stays here: the prompts, the parsers of their answers, the greedy
settings (`ABLATION_SAMPLING`) and `OfflineGenerator`, the no-model default.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from followir.errors import SpecError
from followir.models.generators import GREEDY, Sampling

# Greedy, so that reruns and other machines get the same variants; 64 tokens hold a
# ~10-word command or a keyword list with room to spare.
ABLATION_SAMPLING = Sampling(temperature=0.0, max_new_tokens=64)

PLACEHOLDER = "FILL_TEXT_HERE"

# FollowIR appendix, "Full Instructions to Short Instructions" (quoted).
SHORT_PROMPT = """I have instructions that are specific to a question, but I need your help abstracting them to a general task format that I can give to someone else. I need you to turn them into an abstract command that just describe the general abstract task instead (e.g., where the data is from, what the type of document looks like). It is crucial that you read and follow these instructions, you will get a large bonus if you are successful ($200).

The abstract command should only mention the **task format**. Do **not** refer to any entities or specific text in the original instruction. Your response should be around 10 words. The command should be as if you were speaking to another human.

## Examples

### Example 1:
Original Instruction: A relevant document would provide information about the whole blood-base perfusate and whether or not it provides superior preservation of myocardial function during ex vivo heart perfusion. This may include research experiments, commentary, or survey/review papers. Information about whole blood-base perfusate alone is not relevant, unless it also mentions it's effect on myocardial function during ex vivo heart perfusion.
Abstract Command: Help me to find a highly related PubMed paper to answer this question.

### Example 2:
Original Instruction: A relevant document will contain information that about the right of way in international waters that can be used to determine who should have the right of way in a given situation. For example, it should contain instances about who is at fault in an accident, if it depends on the size of the boat, or details about how this differs according to nationality. Especially relevant are documents describing who is at fault in a crash situation.
Abstract Command: Retrieve a Wikipedia paragraph that answers this question.

### Example 3:
Original Instruction: A relevant instance will be a question that is semantically equivalent to the query given. For example, it may contain different lexical words or be a paraphrase of the other, but the underlying meaning will be the same. If the instance is not semantically the same as the query, it is irrelevant.
Abstract Command: Check if a Quora question is duplicated with this question.

### Example 4:
Original Instruction: A relevant document would include details about the timing of medicare and what age patients can start using it for healthcare. It may include information about laws, insurance, or other details that describe the age the medicare begins. Less relevant are documents talking about potential laws or facts about medicare that do not answer the question of what age medicare begins. Just the mention of an age and when to start medicare would be relevant.
Abstract Command: I want to know the answer to the question. Can you find good evidence on the web?

Now you can easily see that the abstract command is vague and describes only a short command about how to get the information you need. Follow this exactly—do not reference specifics (like in the above, "international waters" and "medicare" are not included in the abstract command). You should instead keep the abstract command vague and well, abstract about the task only. Use the word "question".

## Your turn
Original Instruction: FILL_TEXT_HERE
Abstract Command (remember to use the word "question"):"""

# FollowIR appendix, "Short Instructions to Keywords" (quoted).
KEYWORDS_PROMPT = """I have instructions that are specific to a style of retrieval, but I want you to instead just focus on the relevant keywords that are in these instructions. Your job is to return a list of these keywords that are relevant in the query. There are probably one or two relevant keywords to extract only.

## Examples

### Example 1:
Instruction: Help me to find a highly related PubMed paper to answer this question.
Keywords: ["PubMed"]

### Example 2:
Instruction: I want to find an answer for this Trivia question. Can you find some paragraphs that provide evidence from Wikipedia?
Keywords: ["Trivia", "Wikipedia"]

### Example 3:
Instruction: Check if a Quora question is duplicated with this question.
Keywords: ["Quora", "duplicated"]

### Example 4:
Instruction: I want to find a related question asked in StackExchange. Can you find one for me?
Keywords: ["related", "StackExchange"]

## Your turn
Instruction: FILL_TEXT_HERE
Keywords (either one or two keywords, that are not "documents", "questions", "answer", or "articles"):"""


def fill(template: str, text: str) -> str:
    """Put ``text`` where the paper's prompt says FILL_TEXT_HERE."""
    return template.replace(PLACEHOLDER, " ".join(text.split()))


def parse_keywords(answer: str) -> str:
    """Keywords from an LLM answer: a JSON list (as the prompt's examples show) or, failing
    that, the first line with brackets and quotes removed.  Returned space-joined."""
    answer = answer.strip()
    match = re.search(r"\[.*?\]", answer, flags=re.S)
    if match:
        try:
            items = json.loads(match.group(0))
            words = [str(x).strip() for x in items if str(x).strip()]
            if words:
                return " ".join(words)
        except json.JSONDecodeError:
            pass
    first = answer.splitlines()[0] if answer else ""
    return " ".join(re.sub(r"[\[\]\"',]", " ", first).split())


def parse_short(answer: str) -> str:
    """The short instruction: the answer's first non-empty line, without a label or quotes."""
    for line in answer.strip().splitlines():
        line = re.sub(r"^(abstract command|command)\s*:\s*", "", line.strip(), flags=re.I)
        line = line.strip().strip('"').strip()
        if line:
            return line
    return ""


@dataclass
class OfflineGenerator:
    """No model: marks that variants come from `followir.analysis.keywords`."""

    keywords_k: int = 5
    short_words: int = 12
    name: str = "offline"

    def __post_init__(self) -> None:
        self.keywords_k, self.short_words = int(self.keywords_k), int(self.short_words)

    @property
    def fingerprint(self) -> str:
        return f"offline|k={self.keywords_k}|w={self.short_words}"

    def generate(self, prompt: str, sampling: Sampling = GREEDY) -> str:
        raise SpecError("the offline generator writes no text: it only serves `followir ablate`")
