FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY workers ./workers
COPY ops ./ops
COPY newsflow ./newsflow
COPY schemas ./schemas
RUN pip install --no-cache-dir .
USER nobody
ENV NEWSFLOW_HOME=/tmp/newsflow
ENTRYPOINT ["newsflow"]
