"""LoRA fine-tuning of the pointwise causal-LM reranker (``followir train``)."""
