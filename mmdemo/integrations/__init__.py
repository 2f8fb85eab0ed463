"""Retrievers for RAG frameworks over an mmdemo collection (LangChain, LlamaIndex).

Each framework's module imports only when that framework is installed; both call the same
:mod:`mmdemo.integrations.retrieval`, which calls the library's search.
"""
