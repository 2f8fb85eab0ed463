"""The last pipeline stage: turning search results into what a viewer sees."""
