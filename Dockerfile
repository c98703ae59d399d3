# optiviz: the Streamlit app with its Numba kernels compiled into the image at build time.
#   docker build -t optiviz .
#   docker run --rm -p 8501:8501 optiviz        # then open http://localhost:8501
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NUMBA_CACHE_DIR=/home/app/.cache/numba \
    NUMBA_CPU_NAME=generic

RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --create-home --shell /usr/sbin/nologin --no-log-init app

WORKDIR /app

# The lock pins every package the app needs, with hashes; it is pip-compile's output for requirements.txt
# (the command is at its top), so the image installs exactly what was tested.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY --chown=app:app . .

USER 10001

# Compile every kernel signature the app uses into NUMBA_CACHE_DIR, so the first visitor does not wait.
RUN python -m optiviz warmup

EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--browser.gatherUsageStats=false", "--server.headless=true"]
